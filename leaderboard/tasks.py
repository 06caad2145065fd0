"""Celery tasks of the leaderboard: rebuilding an environment's boards off the request that edited it."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from web.catalog.models import Environment

log = logging.getLogger(__name__)

TASK_NAME = "leaderboard.refresh_environment"


@shared_task(name=TASK_NAME, ignore_result=True)
def refresh_environment_boards(environment_id: int) -> None:
    """Recompute one environment's entries, its board and the overall board.

    Idempotent (each call recomputes from the runs and the environment as they are now), so two edits in a row may
    send two messages and the second simply confirms the first. An environment deleted after its edit has nothing
    left to rebuild: its entries went with it.
    """
    from leaderboard.services import refresh_environment

    try:
        refresh_environment(environment_id)
    except Environment.DoesNotExist:
        log.info("environment %s was deleted before its boards were rebuilt", environment_id)


def request_environment_refresh(environment_id: int) -> None:
    """Ask the ``control`` worker to rebuild an environment's boards; with the broker unreachable, rebuild here.

    The control queue keeps a staff member's edit from waiting on every entry's statistics, and it is served by
    its own small worker, never behind queued training runs. A broker that cannot take the message must not leave
    the boards describing the old fields, so the rebuild then happens in this process, as slow as it is.
    """
    try:
        refresh_environment_boards.apply_async(
            args=[environment_id], queue=settings.CONTROL_QUEUE, retry_policy={"max_retries": 1}
        )
    except Exception as exc:
        log.warning("could not queue the boards of environment %s (%s); rebuilding them now", environment_id, exc)
        refresh_environment_boards(environment_id)
