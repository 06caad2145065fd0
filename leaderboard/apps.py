from __future__ import annotations

from django.apps import AppConfig


class LeaderboardConfig(AppConfig):
    name = "leaderboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Recompute the (config, environment) entry whenever a run finishes or its owner deletes it."""
        from leaderboard.services import on_run_finished
        from web.runs.signals import run_deleted, run_finished

        run_finished.connect(on_run_finished, dispatch_uid="leaderboard.refresh_on_run_finished")
        # The same refresh: it recomputes the pair from the runs that remain (and drops an entry left empty).
        run_deleted.connect(on_run_finished, dispatch_uid="leaderboard.refresh_on_run_deleted")
