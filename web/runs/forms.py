"""The run submission form (a config, an environment and how many seeds, 1 to 10) and the runs list's filters."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db.models import Q

from web.catalog.models import Environment, TrainerConfig
from web.runs.models import RunQuerySet, RunStatus


class SubmitRunForm(forms.Form):
    config = forms.ModelChoiceField(queryset=TrainerConfig.objects.for_chooser(None), label="TRPO config")
    environment = forms.ModelChoiceField(queryset=Environment.objects.all())
    seeds = forms.IntegerField(
        min_value=1,
        max_value=settings.TRUSTBOARD_MAX_SEEDS,
        initial=3,
        help_text=f"Independent runs, one per seed (1 to {settings.TRUSTBOARD_MAX_SEEDS}).",
    )

    def __init__(self, *args: Any, user_id: int | None = None, **kwargs: Any) -> None:
        """``user_id``: the submitting user, whose own configs the menu lists first."""
        super().__init__(*args, **kwargs)
        default = TrainerConfig.objects.filter(is_default=True).values_list("pk", flat=True).first()
        self.fields["config"].queryset = TrainerConfig.objects.for_chooser(user_id)
        self.fields["config"].initial = default
        self.fields["config"].label_from_instance = lambda config: config.menu_label
        self.fields["environment"].label_from_instance = lambda env: f"{env.slug} ({env.budget_steps:,} steps)"


# A config as the run tables print it ("tiny v2"); anything else is a bare name (every version).
CONFIG_VERSION = re.compile(r"(?P<name>.+) v(?P<version>\d{1,9})", re.ASCII)


class RunFilterForm(forms.Form):
    """The filters of the public runs list, read from the query string.

    Every field is optional. A value that names nothing valid (an unknown status or environment, a config that is
    neither an id nor a name) is refused with a message instead of reaching the query: typed by anyone, such values
    once made 500s elsewhere (a NUL byte that PostgreSQL refuses, ``int()`` of a huge number).
    """

    status = forms.ChoiceField(
        choices=[("", "Any status"), *RunStatus.choices],
        required=False,
        error_messages={"invalid_choice": "No status %(value)s: pick one from the list."},
    )
    environment = forms.ChoiceField(
        required=False, error_messages={"invalid_choice": "No environment %(value)s: pick one from the list."}
    )
    config = forms.CharField(
        required=False,
        max_length=100,
        label="Config",
        help_text="An id (7), a name (default) or a version (default v2).",
    )
    owner = forms.CharField(
        required=False, max_length=150, validators=[UnicodeUsernameValidator()], label="Owner (username)"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        slugs = Environment.objects.order_by("slug").values_list("slug", flat=True)
        self.fields["environment"].choices = [("", "Any environment"), *((slug, slug) for slug in slugs)]

    def clean_config(self) -> Q | None:
        """All digits is an id, as in the API and the config pages' links; a name alone means every version of it.

        A name may be all digits too: "42 v1" finds that one.
        """
        text = self.cleaned_data["config"]  # stripped by the field
        if not text:
            return None
        if text.isascii() and text.isdigit() and len(text) <= 18:
            return Q(config_id=int(text))
        lookup = Q(config__name=text)
        if match := CONFIG_VERSION.fullmatch(text):
            # Names are free text (the admin saves any), so "a v2" may also be a name: both are looked for.
            lookup |= Q(config__name=match["name"], config__version=int(match["version"]))
        return lookup

    def filter(self, runs: RunQuerySet) -> RunQuerySet:
        """``runs`` narrowed to the cleaned filters (call after :meth:`is_valid`)."""
        data = self.cleaned_data
        if data["status"]:
            runs = runs.filter(status=data["status"])
        if data["environment"]:
            runs = runs.filter(environment__slug=data["environment"])
        if data["config"] is not None:
            runs = runs.filter(data["config"])
        if data["owner"]:
            runs = runs.filter(owner__username__iexact=data["owner"])  # usernames are unique whatever their case
        return runs

    def query_string(self) -> str:
        """The filters as given, for the pager's links (without ``page``), so that paging keeps them."""
        return urlencode({name: self.data[name] for name in self.fields if self.data.get(name, "").strip()})
