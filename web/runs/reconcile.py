"""The reconciler: makes the database and the broker agree again after a fault.

Two kinds of drift, both detected from the database, which is the source of truth:
- a **running** run whose heartbeat is older than ``TRUSTBOARD_HEARTBEAT_TIMEOUT`` lost its worker (SIGKILL, a
  machine gone): it goes back to the queue and resumes from its latest training state, or, once it has lost
  ``TRUSTBOARD_MAX_ATTEMPTS`` workers, fails with that reason; a run whose owner had asked to cancel it is
  cancelled instead;
- a **queued** run that no broker message carries (Redis restarted empty, a queue purged), and that has waited
  longer than ``TRUSTBOARD_REQUEUE_AFTER``, is enqueued again.

Every transition is a filtered UPDATE, so reconcilers running on several machines at once are harmless, and a
duplicated message is harmless because only one worker can claim a run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from web.runs.broker import pending_run_ids
from web.runs.dbretry import retrying
from web.runs.models import Run, RunStatus
from web.runs.resume_states import discard_resume_state
from web.runs.services import enqueue
from web.runs.signals import announce_finished

log = logging.getLogger(__name__)


@dataclass
class Report:
    """What one pass changed (run ids), for logs, the management command and tests."""

    requeued_lost: list[int] = field(default_factory=list)
    failed_lost: list[int] = field(default_factory=list)
    cancelled_lost: list[int] = field(default_factory=list)
    reenqueued: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any((self.requeued_lost, self.failed_lost, self.cancelled_lost, self.reenqueued))


def reconcile(now: datetime | None = None) -> Report:
    """One pass over the runs that are queued or running; returns what it changed."""
    now = now or timezone.now()
    report = Report()
    _recover_lost_workers(now, report)
    _cancel_queued_runs_asked_to_stop(now, report)
    _reenqueue_lost_messages(now, report)
    if report:
        log.warning("reconciler: %s", report)
    return report


def _recover_lost_workers(now: datetime, report: Report) -> None:
    deadline = now - timedelta(seconds=settings.TRUSTBOARD_HEARTBEAT_TIMEOUT)
    stale = (
        Run.objects.select_related("environment")
        .filter(status=RunStatus.RUNNING, heartbeat_at__lt=deadline)
        .order_by("pk")  # oldest first
    )
    for run in stale:
        fresh = Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING, heartbeat_at__lt=deadline)
        seen = timezone.localtime(run.heartbeat_at).strftime("%Y-%m-%d %H:%M:%S %Z")
        if run.cancel_requested:
            if fresh.update(status=RunStatus.CANCELLED, finished_at=now):
                report.cancelled_lost.append(run.pk)
                _free_and_announce(run.pk)
        elif run.attempts >= settings.TRUSTBOARD_MAX_ATTEMPTS:
            error = f"Its worker stopped responding (last heartbeat {seen}) {run.attempts} times; giving up."
            if fresh.update(status=RunStatus.FAILED, finished_at=now, error=error, system_failure=True):
                report.failed_lost.append(run.pk)
                _free_and_announce(run.pk)
        elif run.requeue(heartbeat_before=deadline):
            log.warning("run %s: no heartbeat since %s; requeued to resume after update %s", run.pk, seen,
                        run.resume_update)  # fmt: skip
            enqueue(run)
            report.requeued_lost.append(run.pk)


def _cancel_queued_runs_asked_to_stop(now: datetime, report: Report) -> None:
    """A queued run whose owner asked to cancel it: no worker claims it (``claim`` skips them) and nothing else
    would end it. It gets there when a cancel request meets a worker's death (the run is put back on the queue
    to resume, and the request stays); a cancel of a queued run otherwise ends it at once."""
    for run_id in Run.objects.filter(status=RunStatus.QUEUED, cancel_requested=True).values_list("pk", flat=True):
        if Run.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(status=RunStatus.CANCELLED, finished_at=now):
            report.cancelled_lost.append(run_id)
            _free_and_announce(run_id)


def _reenqueue_lost_messages(now: datetime, report: Report) -> None:
    waited = now - timedelta(seconds=settings.TRUSTBOARD_REQUEUE_AFTER)
    candidates = list(
        Run.objects.select_related("environment").filter(status=RunStatus.QUEUED, cancel_requested=False)
        .exclude(pk__in=report.requeued_lost)
        # enqueued_at is NULL when the web process died between commit and publishing: the row is all there is.
        .filter(Q(enqueued_at__lt=waited) | Q(enqueued_at__isnull=True, created_at__lt=waited)).order_by("pk")
    )  # fmt: skip
    if not candidates:
        return
    # A queued run's message delivered over REQUEUE_AFTER ago and still unacknowledged is held by a worker that
    # never claimed the run (a live one claims at once): such a run sat "Queued" until Redis' visibility timeout.
    held = pending_run_ids(unacked_for_at_most=settings.TRUSTBOARD_REQUEUE_AFTER)
    for run in candidates:
        if held is None or run.pk not in held:
            enqueue(run)
            report.reenqueued.append(run.pk)


def _free_and_announce(run_id: int) -> None:
    """After a final transition here: free the run's training state (nothing resumes it now) and send
    ``run_finished``."""
    run = Run.objects.get(pk=run_id)
    try:  # storage that is down must not stop the pass: the file is orphaned, the other runs still recovered
        retrying(lambda: discard_resume_state(run))
    except Exception:
        log.exception("run %s: could not delete its training state", run_id)
    announce_finished(run)
