"""Celery tasks of the leaderboard: rebuilding boards off the request that edited what they are computed from (an
environment's board fields, the default config)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings

from web.catalog.models import Environment

log = logging.getLogger(__name__)

TASK_NAME = "leaderboard.refresh_environment"
OVERALL_TASK_NAME = "leaderboard.refresh_overall"
STALE_TASK_NAME = "leaderboard.rebuild_stale_boards"


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


@shared_task(name=OVERALL_TASK_NAME, ignore_result=True)
def refresh_overall_board() -> None:
    """Recompute the overall board (after the default config changed: every P(improvement) is against it)."""
    from leaderboard.services import refresh_overall

    refresh_overall()


@shared_task(name=STALE_TASK_NAME, ignore_result=True)
def rebuild_stale_boards() -> None:
    """Rebuild boards whose figures another release built (after a deploy; see
    :func:`leaderboard.services.rebuild_boards_of_other_releases`). Scheduled by beat on the control queue."""
    from leaderboard.services import rebuild_boards_of_other_releases

    rebuild_boards_of_other_releases()


def request_environment_refresh(environment_id: int) -> None:
    """Ask the ``control`` worker to rebuild an environment's boards (see :func:`_on_control_queue`)."""
    _on_control_queue(refresh_environment_boards, environment_id)


def request_overall_refresh() -> None:
    """Ask the ``control`` worker to rebuild the overall board (see :func:`_on_control_queue`)."""
    _on_control_queue(refresh_overall_board)


def _on_control_queue(task: Any, *args: Any) -> None:
    """Send ``task(*args)`` to the ``control`` worker; with the broker unreachable, run it here.

    The control queue keeps a staff member's edit from waiting on every entry's statistics, and it is served by
    its own small worker, never behind queued training runs. A broker that cannot take the message must not leave
    the boards describing the old fields, so the rebuild then happens in this process, as slow as it is. Called
    after the edit commits: a failure is logged, never raised (the edit is saved, and ``manage.py
    recompute_leaderboard`` can rebuild).
    """
    try:
        task.apply_async(args=list(args), queue=settings.CONTROL_QUEUE, retry_policy={"max_retries": 1})
    except Exception as exc:
        log.warning("could not queue %s%s (%s); rebuilding now", task.name, tuple(args), exc)
        try:
            task(*args)
        except Exception:
            log.exception("rebuilding %s%s failed", task.name, tuple(args))
