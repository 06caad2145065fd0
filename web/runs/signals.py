"""Signals other apps listen to, so that ``web.runs`` never imports them.

``run_finished(sender=Run, run=run)`` is sent by the worker after a run reaches a final status (succeeded,
failed or cancelled) and the row is saved; the leaderboard connects to it to recompute its entries.

``run_deleted(sender=Run, run=run)`` is sent for every deleted run, whatever deleted it (the owner's delete button,
the admin, the cascade of a deleted user; ``services.on_run_row_deleted``, a ``post_delete`` receiver); the
instance keeps its ``config_id`` and ``environment_id``, so the leaderboard can recompute the entry it counted in.
A receiver should defer its work to the commit: a cascade sends it once per run, inside the deleting transaction.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.dispatch import Signal

if TYPE_CHECKING:
    from web.runs.models import Run

run_finished = Signal()
run_deleted = Signal()

log = logging.getLogger(__name__)


def announce_finished(run: Run) -> None:
    """Send ``run_finished`` for ``run``; a failing receiver is logged and never takes its sender down (a worker,
    the reconciler's pass, a cancel request)."""
    from web.runs.models import Run

    for receiver, response in run_finished.send_robust(sender=Run, run=run):
        if isinstance(response, Exception):
            log.error("run_finished receiver %r failed for run %s: %r", receiver, run.pk, response)
