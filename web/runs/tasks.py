"""Celery tasks: thin adapters from a message (a run's primary key) to ``web.runs.worker``."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from celery.signals import worker_init

from web.runs.worker import execute_run, fail_abandoned_run


class TrainRunTask(Task):
    """Records on the row what Celery knows and the run cannot: its process was killed by the hard time limit.

    Celery calls ``on_failure`` in the worker's main process when a hard time limit kills the pool child (and in
    the child for an exception that escapes the task, which ``execute_run`` never lets happen). Without this the
    row would say "running" forever.
    """

    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        run_id = args[0] if args else kwargs.get("run_id")
        if run_id is not None:
            fail_abandoned_run(int(run_id), f"{type(exc).__name__}: {exc}", task_id=task_id)


@worker_init.connect
def preload_trainer(**kwargs: Any) -> None:
    """Import torch and gymnasium once in the worker's main process, so each forked pool child starts warm
    instead of spending seconds of its run's time limit on imports."""
    import trainer  # noqa: F401


@shared_task(name="runs.train_run", base=TrainRunTask, ignore_result=True, bind=True)
def train_run(self: Task, run_id: int) -> None:
    """Train one run. Never raises: every outcome, failures included, is written to the run's row."""
    execute_run(run_id, task_id=self.request.id or "")


@shared_task(name="runs.reconcile", ignore_result=True)
def reconcile_runs() -> None:
    """Periodic (Celery beat): requeue runs that lost their worker or their broker message."""
    from web.runs.reconcile import reconcile

    reconcile()
