from __future__ import annotations

from django.apps import AppConfig


class LeaderboardConfig(AppConfig):
    name = "leaderboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Recompute an entry when a run finishes or is deleted, and an environment's boards when a field they are
        computed from is edited."""
        from django.db.models.signals import post_save, pre_save

        from leaderboard.services import (
            on_config_saved,
            on_environment_saved,
            on_run_deleted,
            on_run_finished,
            remember_board_fields,
            remember_default,
        )
        from web.catalog.models import Environment, TrainerConfig
        from web.runs.signals import run_deleted, run_finished

        run_finished.connect(on_run_finished, dispatch_uid="leaderboard.refresh_on_run_finished")
        # Recomputes each pair from the runs that remain (and drops an entry left empty), once per deletion.
        run_deleted.connect(on_run_deleted, dispatch_uid="leaderboard.refresh_on_run_deleted")
        # An edit of an environment's scale, minimum seeds or budget changes its boards without any run changing.
        pre_save.connect(remember_board_fields, sender=Environment, dispatch_uid="leaderboard.remember_board_fields")
        post_save.connect(on_environment_saved, sender=Environment, dispatch_uid="leaderboard.refresh_on_env_saved")
        # A new default config changes every P(improvement) on the overall board.
        pre_save.connect(remember_default, sender=TrainerConfig, dispatch_uid="leaderboard.remember_default")
        post_save.connect(on_config_saved, sender=TrainerConfig, dispatch_uid="leaderboard.refresh_on_default")
