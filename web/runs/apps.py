from __future__ import annotations

from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "web.runs"
    label = "runs"
    verbose_name = "Training runs"

    def ready(self) -> None:
        """Every deletion of a run, by any path, frees its files and tells the leaderboard."""
        from django.db.models.signals import post_delete

        from web.runs.models import Run
        from web.runs.services import on_run_row_deleted

        post_delete.connect(on_run_row_deleted, sender=Run, dispatch_uid="runs.on_run_row_deleted")
