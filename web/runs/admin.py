from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from web.runs.models import Run, RunMetric


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    """Runs as the workers wrote them: what a run trained on and what it scored are read-only here.

    An edit of them (a result typed over, ``eval_returns`` set to a number, a run moved to another environment)
    changed no board, since only a finished or deleted run refreshes its entry, and a malformed value made the run
    page and every later rebuild of its board fail. Runs are cancelled and deleted on the site or with the delete
    action here; staff may still correct the owner.
    """

    list_display = ["id", "config", "environment", "seed", "owner", "status", "progress", "worker_host", "created_at"]
    list_filter = ["status", "queue"]
    list_select_related = ["config", "environment", "owner"]
    raw_id_fields = ["config", "environment", "owner"]

    def get_readonly_fields(self, request: HttpRequest, obj: Run | None = None) -> list[str]:
        return [f.name for f in Run._meta.concrete_fields if f.name not in ("id", "owner")]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs come from submissions on the site, which number seeds, check quotas and enqueue

    def save_model(self, request: HttpRequest, obj: Run, form: Any, change: bool) -> None:
        # Only the owner: a full save would write back the status, progress and results read when the page
        # loaded, over what a worker wrote since.
        obj.save(update_fields=["owner"])


@admin.register(RunMetric)
class RunMetricAdmin(admin.ModelAdmin):
    list_display = ["run", "update", "steps"]
    raw_id_fields = ["run"]
