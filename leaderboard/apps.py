from __future__ import annotations

from django.apps import AppConfig


class LeaderboardConfig(AppConfig):
    name = "leaderboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Recompute the (config, environment) entry whenever a worker reports a finished run."""
        from leaderboard.services import on_run_finished
        from web.runs.signals import run_finished

        run_finished.connect(on_run_finished, dispatch_uid="leaderboard.refresh_on_run_finished")
