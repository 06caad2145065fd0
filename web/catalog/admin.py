from __future__ import annotations

from django.contrib import admin

from web.catalog.forms import EnvironmentForm
from web.catalog.models import Environment, TrainerConfig


@admin.register(Environment)
class EnvironmentAdmin(admin.ModelAdmin):
    # The same validation as the site's form: staff must not be able to store an import path or unsafe kwargs.
    form = EnvironmentForm
    list_display = ["slug", "gym_id", "budget_steps", "eval_episodes", "created_by"]
    search_fields = ["slug", "gym_id"]


@admin.register(TrainerConfig)
class TrainerConfigAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "owner", "is_default", "created_at"]
    search_fields = ["name"]
