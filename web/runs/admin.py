from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from web.admin_readonly import ViewOnlyAdmin
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
    # Storage files are shown through methods: a read-only FileField links to MEDIA_URL, which is never served (it
    # also holds resume states), so the admin's checkpoint link was a 404.
    exclude = ["checkpoint", "resume_state"]
    SHOWN_AS = {"checkpoint": "checkpoint_download", "resume_state": "resume_state_file"}

    def get_readonly_fields(self, request: HttpRequest, obj: Run | None = None) -> list[str]:
        fields = Run._meta.concrete_fields
        return [self.SHOWN_AS.get(f.name, f.name) for f in fields if f.name not in ("id", "owner")]

    @admin.display(description="checkpoint")
    def checkpoint_download(self, run: Run) -> str:
        """The site's download (``runs:checkpoint``), which reads the file from storage, local or S3."""
        if not run.checkpoint:
            return "-"
        url = reverse("runs:checkpoint", args=[run.pk])
        return format_html('<a href="{}">{}</a> ({})', url, run.checkpoint_filename, run.checkpoint.name)

    @admin.display(description="resume state")
    def resume_state_file(self, run: Run) -> str:
        """Its name in storage only: training states are internal and never served."""
        return run.resume_state.name or "-"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # runs come from submissions on the site, which number seeds, check quotas and enqueue

    def save_model(self, request: HttpRequest, obj: Run, form: Any, change: bool) -> None:
        # Only the owner: a full save would write back the status, progress and results read when the page
        # loaded, over what a worker wrote since.
        obj.save(update_fields=["owner"])


@admin.register(RunMetric)
class RunMetricAdmin(ViewOnlyAdmin):
    """An update's metrics as the worker recorded them: view only.

    They are the run's learning curve and its board's curve and AUC, so like a run's results they cannot be typed
    over, added or deleted one by one here: ``metrics`` set to a JSON string made the run page and its entry page a
    500, and any other edit changed the charts and never the board. They go with their run (its delete), and a
    run's deletion still reaches them, so the delete permission itself stays (the admin checks it on every row a
    cascade reaches).
    """

    list_display = ["run", "update", "steps"]
    raw_id_fields = ["run"]

    delete_refusal = "An update's metrics go with their run: delete the run instead."
