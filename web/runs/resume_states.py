"""Where a run's resumable training state lives: one file in Django storage, pointed to by ``Run.resume_state``.

The worker saves a state every ``TRUSTBOARD_CHECKPOINT_EVERY`` updates and loads it when a run resumes on another
worker; whatever ends a run for good (the worker, the reconciler, a cancel of a queued run) frees it. Kept apart
from the worker so that those other paths need not import it.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile

from web.runs.models import LostOwnership, Run, RunMetric, resume_state_path

if TYPE_CHECKING:
    from trainer import TrainingState

log = logging.getLogger(__name__)


def load_resume_state(run: Run) -> TrainingState | None:
    """The run's latest training state, after deleting metric rows it does not cover.

    A worker that died after update 7 with its last state at update 6 left a row for update 7; the resumed run
    produces update 7 again, so that row goes first (no duplicates, no gaps). Without a readable state the run
    starts over and every earlier row goes.
    """
    from trainer import CheckpointError, TrainingState

    state = None
    if run.resume_state:
        try:
            with run.resume_state.open("rb") as f:
                state = TrainingState.from_bytes(f.read())
        except (OSError, CheckpointError, ValueError) as exc:
            log.warning("run %s: training state %s unreadable (%s); starting over", run.pk, run.resume_state, exc)
    covered = state.update if state is not None else 0
    RunMetric.objects.filter(run=run, update__gt=covered).delete()
    if state is not None:
        log.info("run %s resumes after update %s", run.pk, state.update)
    return state


def save_resume_state(run: Run, update: int, data: bytes) -> None:
    """Store a new training state, point the row at it, then delete the previous one (never a moment without)."""
    storage = run.resume_state.storage
    previous = run.resume_state.name
    # A name of this save's own (uuid): the clean-up below must never delete a file another save wrote (a stale
    # claim, or a storage that overwrites names).
    target = resume_state_path(run, f"update-{update}-{uuid.uuid4().hex[:12]}.state")
    try:
        name = storage.save(target, ContentFile(data))
    except Exception:
        # A full disk left the part written so far under the name, pointed to by no row and never deleted.
        with contextlib.suppress(Exception):
            if storage.exists(target):
                storage.delete(target)
        raise
    if not run._owned().update(resume_state=name, resume_update=update):
        storage.delete(name)
        raise LostOwnership(f"run {run.pk} is no longer owned by this worker")
    run.resume_state.name, run.resume_update = name, update
    if previous and previous != name:
        storage.delete(previous)


def discard_resume_state(run: Run) -> None:
    """A finished run needs no training state: free the storage.

    A storage that refuses the deletion (read-only, gone) leaves the file behind, logged; it must not raise out of
    the task after the run's outcome is written (``run_finished`` was then never sent)."""
    if run.resume_state:
        try:
            run.resume_state.storage.delete(run.resume_state.name)
        except Exception:
            log.exception("run %s: could not delete its training state %s; left in storage", run.pk,
                          run.resume_state.name)  # fmt: skip
        Run.objects.filter(pk=run.pk).update(resume_state="")
        run.resume_state.name = ""
