"""The run submission form: a config, an environment and how many seeds (1 to 10)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from web.catalog.models import Environment, TrainerConfig


def config_label(config: TrainerConfig) -> str:
    """An option of the config menu: many users' configs share it, so each says whose it is (``tiny v2 — alice``,
    ``trpo-default v3 — shipped, default``)."""
    default = ", default" if config.is_default else ""
    return f"{config} — {config.owner_label}{default}"


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
        self.fields["config"].label_from_instance = config_label
        self.fields["environment"].label_from_instance = lambda env: f"{env.slug} ({env.budget_steps:,} steps)"
