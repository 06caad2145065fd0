from __future__ import annotations

from django.contrib import admin

from web.runs.models import Run, RunMetric


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["id", "config", "environment", "seed", "owner", "status", "progress", "worker_host", "created_at"]
    list_filter = ["status", "queue"]
    list_select_related = ["config", "environment", "owner"]
    raw_id_fields = ["config", "environment", "owner"]


@admin.register(RunMetric)
class RunMetricAdmin(admin.ModelAdmin):
    list_display = ["run", "update", "steps"]
    raw_id_fields = ["run"]
