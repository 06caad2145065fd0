from __future__ import annotations

from django.contrib import admin

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


@admin.register(TrainerConfig)
class TrainerConfigAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "owner", "is_default", "created_at"]
    search_fields = ["name"]
