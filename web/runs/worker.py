"""What a worker does with one run: claim it, train through ``trainer``, save the results, announce the end.

Only the row decides who trains: a run is trained by the worker whose filtered UPDATE moved it from queued to
running, so a redelivered or duplicated message is harmless. Every exception ends as a failed run with its
reason; none escapes to kill the worker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.utils import timezone

from web.release import code_version
from web.runs.dbretry import retrying
from web.runs.jsonsafe import finite
from web.runs.models import LostOwnership, Run, RunMetric, RunStatus
from web.runs.resume_states import discard_resume_state, load_resume_state, save_resume_state
from web.runs.services import training_device
from web.runs.signals import announce_finished

if TYPE_CHECKING:
    from trainer import TrainingState

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ERROR_CHARS = 4000
TIME_LIMIT_ERROR = "Time limit exceeded: the run took longer than its budget allows."
# What ``fail_abandoned_run`` writes before the reason: the pool's main process failed the run of a child it is killing.
ABANDONED_ERROR_PREFIX = "The training process was stopped: "
# How long a child whose run was failed that way waits for the kill before it returns anyway (it comes in < 1 s).
AWAIT_KILL_SECONDS = 60.0
# While a run trains, a thread keeps its heartbeat through one long update, for at most this many heartbeat
# timeouts without an update (1 hour by default); past that the run goes silent and the reconciler recovers it.
MAX_UPDATE_TIMEOUTS = 6
# billiard delivers Celery's soft time limit as this signal, whose handler raises SoftTimeLimitExceeded.
SOFT_LIMIT_SIGNAL = getattr(signal, "SIGUSR1", None)


def execute_run(run_id: int, host: str | None = None, task_id: str = "") -> RunStatus | None:
    """Train run ``run_id`` if it is still queued; returns its final status, or None if another owner had it."""
    run = retrying(lambda: Run.objects.select_related("config", "environment").filter(pk=run_id).first())
    if run is None:
        log.warning("run %s does not exist; message dropped", run_id)
        return None
    token = host or worker_token()
    if not retrying(lambda: run.claim(token, task_id) or (_owner_died_here(run) and run.claim(token, task_id))):
        log.info("run %s is %s, not queued; nothing to do", run_id, run.status)
        return None
    log.info("run %s claimed (attempt %s): %s", run_id, run.attempts, run)
    if run.attempts > settings.TRUSTBOARD_MAX_ATTEMPTS:
        lost = run.attempts - 1
        retrying(
            lambda: run.finish(
                RunStatus.FAILED, error=f"Its worker was lost {lost} times; giving up.", system_failure=True
            )
        )
    else:
        attempt = run.attempts
        try:
            _train_and_save(run)
        except LostOwnership:
            if _failed_by_the_pool(run.pk, attempt):
                _await_kill(run.pk)
            log.warning("run %s was taken over by another worker; this one stops without writing", run_id)
            return None
        except Exception as exc:
            _reset_broken_connection()
            ours = _is_system_failure(exc)
            if _is_time_limit(exc):
                error = TIME_LIMIT_ERROR
            else:
                log.exception("run %s failed", run_id)
                # The run page is public: a failure of ours (storage, database) names our paths and hosts, so its
                # details go to the worker's log and the page says whose failure it was.
                error = _platform_failure(exc) if ours else _describe(exc)
            retrying(lambda: run.finish(RunStatus.FAILED, error=error, system_failure=ours))
        if _failed_by_the_pool(run.pk, attempt):  # it ended just as the pool gave up on it: the pool announced it
            _await_kill(run.pk)
            return None
    if run.status in (RunStatus.FAILED, RunStatus.CANCELLED):
        retrying(lambda: discard_resume_state(run))
    announce_finished(run)
    return RunStatus(run.status)


def worker_token() -> str:
    """Who holds a run: this host and process (a pool child), so a dead holder on this host can be detected."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_died_here(run: Run) -> bool:
    """True, after requeueing it, when the run's holder was a process on this host that no longer exists.

    Celery requeues the message of a pool child killed mid-task (``task_reject_on_worker_lost``); the row still
    says "running". When the dead child was on this very host we know it is gone and resume at once, instead of
    waiting for the reconciler's heartbeat deadline.
    """
    run.refresh_from_db()
    host, _, pid = run.worker_host.rpartition(":")
    if run.status != RunStatus.RUNNING or host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        if run.cancel_requested:  # its owner asked to stop it: that is what it does now, instead of resuming
            if Run.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
                status=RunStatus.CANCELLED, finished_at=timezone.now()
            ):
                log.warning("run %s: its worker process %s died after a cancel request; cancelled", run.pk, pid)
                run.refresh_from_db()
                discard_resume_state(run)
                announce_finished(run)
            return False
        log.warning("run %s: its worker process %s died; resuming it here", run.pk, pid)
        return run.requeue()
    except PermissionError:
        return False
    return False


def fail_abandoned_run(run_id: int, reason: str, task_id: str = "") -> bool:
    """Fail a run whose training process died without recording an outcome (e.g. killed at its hard time limit).

    With ``task_id`` (the message the killed process was running), only while that message's claim still holds
    the run: a process frozen past its hard limit may have been presumed dead, and the run resumed elsewhere by a
    healthy claim, which this must not fail. The run's training state is freed with it.
    """
    run = Run.objects.filter(pk=run_id).first()
    if run is None or run.status != RunStatus.RUNNING:
        return False
    if task_id and run.claim_task and run.claim_task != task_id:
        log.warning("run %s: the killed task %s no longer holds it (%s does); left alone", run_id, task_id,
                    run.claim_task)  # fmt: skip
        return False
    run.finish(RunStatus.FAILED, error=f"{ABANDONED_ERROR_PREFIX}{reason}"[:MAX_ERROR_CHARS])
    if run.status != RunStatus.FAILED:
        return False
    discard_resume_state(run)
    announce_finished(run)
    return True


def _failed_by_the_pool(run_id: int, attempt: int) -> bool:
    """True when claim ``attempt`` of the run was failed by ``fail_abandoned_run``: the pool's main process has
    given up on this process (hard time limit) and is about to kill it."""
    current = retrying(lambda: Run.objects.filter(pk=run_id).values("status", "attempts", "error").first())
    return (
        current is not None
        and current["status"] == RunStatus.FAILED
        and current["attempts"] == attempt
        and current["error"].startswith(ABANDONED_ERROR_PREFIX)
    )


def _await_kill(run_id: int) -> None:
    """Wait for the kill instead of returning: a child that returns here reports its task done to a pool that
    has already failed it (at a hard time limit billiard fails the job, runs ``on_failure``, then kills the
    child). The pool marks a child idle on its result (asynpool's ``on_job_ready``), here one it is killing;
    that late result was in the log each time a worker in CI then took nothing more after a hard time limit."""
    log.warning("run %s was failed at its hard time limit; this process waits to be stopped", run_id)
    time.sleep(AWAIT_KILL_SECONDS)
    log.error("run %s: this process was not stopped within %ss; returning", run_id, AWAIT_KILL_SECONDS)


def _train_and_save(run: Run) -> None:
    from trainer import CheckpointError, train

    env = run.environment
    config = run.config.trpo_config()
    config = dataclasses.replace(config, device=training_device(config.device, run.queue))
    resume = _db(lambda: load_resume_state(run))

    last_update = [time.monotonic()]

    def on_update(metrics: dict[str, Any]) -> None:
        last_update[0] = time.monotonic()
        _db(lambda: run.record_update(int(metrics["time/update"]), int(metrics["time/steps"]), _json_safe(metrics)))

    def progressing() -> bool:
        return time.monotonic() - last_update[0] < settings.TRUSTBOARD_HEARTBEAT_TIMEOUT * MAX_UPDATE_TIMEOUTS

    def should_stop() -> bool:
        return _db(run.cancel_is_requested)

    def on_checkpoint(state: TrainingState) -> None:
        data = state.to_bytes()
        _db(lambda: save_resume_state(run, state.update, data))

    def train_from(state: TrainingState | None) -> Any:
        return train(
            config,
            env.gym_id,
            env.kwargs,
            total_steps=env.budget_steps,
            seed=run.seed,
            on_update=on_update,
            should_stop=should_stop,
            checkpoint_every=None if state is not None else settings.TRUSTBOARD_CHECKPOINT_EVERY,
            on_checkpoint=on_checkpoint,
            resume=state,
        )

    # Updates beat too, but one update of a large batch with many critic epochs can outlast the heartbeat timeout:
    # the reconciler then gave the live run to a second worker, and a third, and failed it as "lost". The thread
    # beats only while updates keep coming (at most MAX_UPDATE_TIMEOUTS timeouts apart), so a training loop that
    # hangs (an environment waiting forever on a pipe) still goes silent and is recovered elsewhere.
    with _heartbeat_in_background(run, settings.TRUSTBOARD_HEARTBEAT_TIMEOUT / 4, while_=progressing):
        try:
            result = train_from(resume)
        except CheckpointError as exc:
            if resume is None:
                raise
            # The state parsed but does not fit (a part missing or misshapen): like an unreadable one, it costs the
            # run its progress, never the run itself.
            log.warning("run %s: training state %s does not fit (%s); starting over", run.pk, run.resume_state, exc)
            _db(lambda: RunMetric.objects.filter(run=run).delete())
            result = train_from(None)
    versions = {**result.versions, "code": code_version()}
    timing = {
        "wall_clock_s": result.wall_clock_s,
        "steps_per_s": result.steps / result.wall_clock_s if result.wall_clock_s > 0 else None,
        "versions": versions,
        "steps_done": result.steps,
        "updates_done": result.updates,
    }
    if result.stopped:
        _db(lambda: run.finish(RunStatus.CANCELLED, **timing))
        _db(lambda: discard_resume_state(run))
        return
    _evaluate_and_save(run, result, timing)


def _evaluate_and_save(run: Run, result: Any, timing: dict[str, Any]) -> None:
    """The environment's evaluation protocol, then the checkpoint, then the final row, in that order."""
    from trainer import checkpoint_bytes, evaluate

    env = run.environment
    with _heartbeat_in_background(run, settings.TRUSTBOARD_HEARTBEAT_TIMEOUT / 4):
        ev = evaluate(
            result.agent, env.gym_id, env.kwargs, episodes=env.eval_episodes, seed=env.eval_seed,
            deterministic=env.deterministic_eval,
        )  # fmt: skip
        summary = {
            "run_id": run.pk, "seed": run.seed, "environment": env.slug, "config": str(run.config),
            "eval_return_mean": ev.mean, "eval_return_std": ev.std, "steps": result.steps,
            # `python -m trainer evaluate` replays this protocol by default, reproducing the board's number.
            "evaluation": {"episodes": env.eval_episodes, "seed": env.eval_seed,
                           "deterministic": env.deterministic_eval},
        }  # fmt: skip
        data = checkpoint_bytes(
            result.agent, env_id=env.gym_id, env_kwargs=env.kwargs, summary=summary, versions=timing["versions"]
        )
        with _database_section():
            retrying(lambda: run.checkpoint.save(run.checkpoint_filename, ContentFile(data), save=False))
    saved = run.checkpoint.name
    with _database_section():
        written = retrying(
            lambda: run.finish(
                RunStatus.SUCCEEDED,
                progress=1.0,
                final_return_mean=ev.mean,
                final_return_std=ev.std,
                eval_returns=[float(r) for r in ev.returns],
                eval_lengths=[int(n) for n in ev.lengths],
                checkpoint=saved,
                error="",
                **timing,
            )
        )
        # A retried finish whose first try landed reads back as not written: the row then names our checkpoint.
        if not written and not (run.status == RunStatus.SUCCEEDED and run.checkpoint.name == saved):
            retrying(lambda: run.checkpoint.storage.delete(saved))  # the row is not ours: neither is the file
            raise LostOwnership(f"run {run.pk} is no longer owned by this worker")
        retrying(lambda: discard_resume_state(run))


@contextlib.contextmanager
def _heartbeat_in_background(run: Run, every: float, while_: Callable[[], bool] | None = None) -> Iterator[None]:
    """Beat from a thread while the run trains, evaluates and saves its checkpoint: a long update (a large batch,
    many critic epochs) or an evaluation with long episodes (a registered environment may allow up to 100,000 steps
    an episode) would otherwise outlast the heartbeat timeout and be taken over by a second worker while this one
    still ran. A process that is killed or frozen stops its thread with it, so it still goes silent; with
    ``while_``, the thread also stays silent while ``while_()`` is false.

    Each beat opens and closes its own database connection: beats are minutes apart, and a connection held for
    the whole run would double the connections every training worker takes."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            if while_ is not None and not while_():
                continue
            try:
                if not run.beat():  # no longer ours: nothing more to say
                    return
            except Exception:  # a database outage: the next beat tries again, as the training loop's writes do
                log.warning("run %s: a heartbeat failed; trying again in %ss", run.pk, every, exc_info=True)
            finally:
                connection.close()  # this thread's own connection

    thread = threading.Thread(target=beat, name=f"heartbeat-run-{run.pk}", daemon=True)
    # The thread starts with the soft-time-limit signal blocked (a thread inherits its creator's mask): the kernel
    # delivers a process signal to any thread that does not block it, and one taken by this thread while the main
    # thread holds the signal in _database_section would raise there mid-write all the same.
    with _soft_limit_signal_blocked():
        thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


@contextlib.contextmanager
def _soft_limit_signal_blocked() -> Iterator[None]:
    if SOFT_LIMIT_SIGNAL is None:
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {SOFT_LIMIT_SIGNAL})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _db(operation: Callable[[], T]) -> T:
    """A database call from inside training: soft-limit signal held, connection errors retried."""
    with _database_section():
        return retrying(operation)


@contextlib.contextmanager
def _database_section() -> Iterator[None]:
    """Hold the soft-time-limit signal while talking to the database or storage.

    Raised in the middle of a query, SoftTimeLimitExceeded leaves the connection in a state no later query can
    use. Blocked, the signal stays pending and is delivered (and raised) the moment the section ends, between
    two queries. Only the main thread of a process can do this (prefork and solo pools run tasks there).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    with _soft_limit_signal_blocked():
        yield


def _is_time_limit(exc: BaseException | None) -> bool:
    """True when the soft time limit is the exception or what caused it (it can surface wrapped)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, SoftTimeLimitExceeded):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _reset_broken_connection() -> None:
    """An exception raised mid-query (the soft time limit arrives as a signal) leaves the connection unusable."""
    if connection.connection is not None and not connection.is_usable():
        connection.close()


def _json_safe(metrics: dict[str, Any]) -> dict[str, float | None]:
    """Metrics as plain floats, with NaN and infinities (which jsonb refuses) as null."""
    return finite({key: None if value is None else float(value) for key, value in metrics.items()})


def _is_system_failure(exc: BaseException) -> bool:
    """A failure of our infrastructure (database, storage, disk, a worker installed without an environment the
    site's catalog accepted) rather than of the run's config or environment."""
    from django.db import Error as DatabaseError

    from trainer.envs import EnvNotRegistered

    return isinstance(exc, DatabaseError | OSError | EnvNotRegistered)


def _describe(exc: BaseException) -> str:
    """The error a user sees: the exception first, then the end of the traceback for whoever debugs it, with the
    server's own directories (the virtual environment, Python's, the project's, the media root) shortened to
    names wherever they appear: the run page is public, and the layout of the worker's disk is nobody's business."""
    text = f"{type(exc).__name__}: {exc}\n\n" + "".join(traceback.format_exception(exc)[-3:])
    project = str(Path(__file__).resolve().parents[2])
    prefixes = [(str(settings.MEDIA_ROOT), "<media>"), (sys.prefix, "<venv>"), (sys.base_prefix, "<python>"),
                (project, "<trustboard>")]  # fmt: skip
    for prefix, name in sorted(prefixes, key=lambda pair: -len(pair[0])):  # the longest (most specific) first
        if prefix and prefix != "/":
            text = text.replace(prefix.rstrip("/") + "/", name + "/")
    return text[:MAX_ERROR_CHARS]


def _platform_failure(exc: BaseException) -> str:
    """What the public run page says of a failure of ours: whose it was, not our paths, hosts or addresses."""
    return (
        f"The platform failed this run ({type(exc).__name__}: storage, database or worker installation), not its "
        "config or environment; it does not count against your quota. The details are in the worker's log."
    )
