from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from web.catalog.forms import EnvironmentForm
from web.catalog.models import Environment, TrainerConfig


class EnvironmentAdminForm(EnvironmentForm):
    """The site's form plus what only staff decide: whether the environment counts on the overall board."""

    class Meta(EnvironmentForm.Meta):
        fields = [*EnvironmentForm.Meta.fields, "counts_overall"]


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    # The same validation as the site's form: staff must not be able to store an import path or unsafe kwargs.
    form = EnvironmentAdminForm
    list_display = ["slug", "gym_id", "budget_steps", "eval_episodes", "counts_overall", "created_by"]
    list_filter = ["counts_overall"]
    search_fields = ["slug", "gym_id"]

    def get_readonly_fields(self, request: HttpRequest, obj: Environment | None = None) -> list[str]:
        """A shipped environment keeps its slug: ``load_catalog`` (every start) finds shipped rows by slug, so a
        renamed one was created again under the shipped slug, and two boards of one task counted overall."""
        return ["slug"] if obj is not None and obj.shipped_values else []


class TrainerConfigAdminForm(forms.ModelForm):
    """The admin's config form checks what the site's does: params the trainer accepts (stored as its full
    ``to_dict()``), and no change to the params of a version that runs use (a 500 from ``ConfigLockedError``
    before, and any params at all could be stored)."""

    class Meta:
        model = TrainerConfig
        fields = ["name", "version", "owner", "params", "description", "is_default", "parent"]

    def clean_is_default(self) -> bool:
        """One default at a time (a database constraint), said in words: the admin showed "Constraint
        “one_default_config” is violated." and left staff to guess which config held it."""
        is_default = self.cleaned_data["is_default"]
        if is_default:
            current = TrainerConfig.objects.filter(is_default=True).exclude(pk=self.instance.pk).first()
            if current is not None:
                raise forms.ValidationError(
                    f"{current} is the default config; untick “is default” on it first (there is one default at a "
                    "time). manage.py load_catalog, run at every start, makes trpo-default the default again."
                )
        return is_default

    def clean_params(self) -> dict[str, Any]:
        from trainer import ConfigError, TRPOConfig

        params = self.cleaned_data["params"]
        config = self.instance
        stored = TrainerConfig.objects.filter(pk=config.pk).values_list("params", flat=True).first()
        locked = config.pk is not None and config.is_locked
        if locked and params == stored:
            return stored  # untouched: saved as it is, even when stored under an older trainer
        try:
            normalised = TRPOConfig.from_dict(params)
        except ConfigError as exc:
            raise forms.ValidationError(str(exc)) from None
        if locked:
            try:
                same = stored is not None and TRPOConfig.from_dict(stored) == normalised
            except ConfigError:
                same = False
            if not same:
                raise forms.ValidationError(f"{config} has runs; save the change as a new version on the site instead.")
            return stored  # the same config written out in full: keep the stored form the runs were made with
        return normalised.to_dict()


@admin.register(TrainerConfig)
class TrainerConfigAdmin(admin.ModelAdmin):
    form = TrainerConfigAdminForm
    list_display = ["name", "version", "owner", "is_default", "created_at"]
    search_fields = ["name"]

    def get_readonly_fields(self, request: HttpRequest, obj: TrainerConfig | None = None) -> list[str]:
        """A version that runs use keeps its name and number: boards, exports and cached pages show them, and a
        rename changed some of those and not others (nothing refreshes them on a config's save)."""
        return ["name", "version"] if obj is not None and obj.is_locked else []
