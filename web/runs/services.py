"""Submitting runs: one row per seed in one transaction, each enqueued only once that transaction commits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from web.catalog.models import Environment, TrainerConfig
from web.runs.models import FINAL_STATUSES, Queue, Run, RunStatus
from web.runs.quotas import check_quota, record_deletion
from web.runs.resume_states import discard_resume_state
from web.runs.signals import announce_finished, run_deleted


@dataclass(frozen=True)
class TimeLimits:
    soft: int  # the task gets SoftTimeLimitExceeded and marks the run failed
    hard: int  # the worker child is killed if the soft limit was not honoured


def time_limits(environment: Environment) -> TimeLimits:
    """Limits from the environment's budget at a pessimistic step rate, capped by the longest run allowed.

    The Redis visibility timeout (settings) is above that cap, so a healthy long run is never redelivered.
    """
    cap = settings.TRUSTBOARD_MAX_RUN_SECONDS
    expected = environment.budget_steps / settings.TRUSTBOARD_MIN_STEPS_PER_S
    soft = min(int(expected) + settings.TRUSTBOARD_RUN_OVERHEAD_SECONDS, cap - 60)
    return TimeLimits(soft=max(soft, 60), hard=min(max(soft, 60) + 60, cap))


def queue_for(device: str) -> Queue:
    """``cuda`` configs need a GPU worker, ``cpu`` ones a CPU worker; ``auto`` follows the deployment's choice."""
    if device == "cuda":
        return Queue.GPU
    if device == "cpu":
        return Queue.CPU
    return Queue(settings.TRUSTBOARD_AUTO_QUEUE)


def training_device(device: str, queue: str) -> str:
    """The device a worker trains a run on: ``auto`` means the queue the deployment routed it to.

    Why: the trainer's own ``auto`` takes CUDA whenever the machine has it, but with small networks and batches
    (rl-zoo's settings) an update is slower on a GPU than on one CPU thread (BENCHMARKS.md, "CPU vs GPU"). So an
    ``auto`` run routed to the ``cpu`` queue trains on the CPU even on a worker that also has a GPU; on the ``gpu``
    queue it keeps ``auto`` (CUDA, or the CPU where a GPU worker has none). ``cpu`` and ``cuda`` are kept as asked.
    """
    if device == "auto" and queue == Queue.CPU:
        return "cpu"
    return device


def enqueue(run: Run) -> None:
    from web.runs.tasks import train_run

    limits = time_limits(run.environment)
    # Stamped before publishing: the reconciler never mistakes a message being sent for one that was lost.
    Run.objects.filter(pk=run.pk).update(enqueued_at=timezone.now())
    train_run.apply_async(args=[run.pk], queue=run.queue, soft_time_limit=limits.soft, time_limit=limits.hard)


class SubmissionRefused(Exception):
    """A submission this site cannot run as asked; the message says what to change. Nothing was created."""


class ConfigDeleted(SubmissionRefused):
    """The config chosen on the form was deleted before the submission reached it."""


class NoGpuWorkers(SubmissionRefused):
    """Runs routed to the ``gpu`` queue on a site where no worker serves it (``TRUSTBOARD_GPU_WORKERS``)."""


def routed_queue(trpo: Any) -> Queue:
    """The queue a run of this config goes to, refused when nothing would ever take it from there."""
    queue = queue_for(trpo.device)
    if queue == Queue.GPU and not settings.TRUSTBOARD_GPU_WORKERS:
        raise NoGpuWorkers(
            f"Runs of this config (device {trpo.device!r}) go to the gpu queue, and this site runs no GPU workers: "
            "they would wait forever. Save a version of the config with device cpu"
            + (" or auto." if trpo.device == "cuda" else ".")
        )
    return queue


class BatchExceedsBudget(SubmissionRefused):
    """A config whose single batch is larger than the environment's budget: its runs would train past the budget
    (the trainer takes at least one whole batch) and be ranked beside runs that kept to it."""


def planned_steps(trpo: Any, environment: Environment) -> int:
    """The environment steps a run of this config will train for on this environment (whole batches), or
    :class:`BatchExceedsBudget` with a message that says what to change."""
    from trainer import steps_for_budget

    if trpo.batch_size > environment.budget_steps:
        raise BatchExceedsBudget(
            f"One batch of this config (n_envs × n_steps = {trpo.batch_size:,} steps) is larger than the training "
            f"budget of {environment.slug} ({environment.budget_steps:,} steps): its runs would train past the "
            "budget every other run keeps to. Lower n_steps or n_envs."
        )
    return steps_for_budget(trpo, environment.budget_steps)


@transaction.atomic
def submit_runs(owner: AbstractBaseUser, config: TrainerConfig, environment: Environment, n_seeds: int) -> list[Run]:
    """Create ``n_seeds`` queued runs with fresh seeds for this (config, environment) and enqueue them on commit.

    All or nothing: the batch is checked against the budget (:class:`BatchExceedsBudget`), the queue against the
    workers there are (:class:`NoGpuWorkers`) and the quotas for the whole submission
    (:class:`web.runs.quotas.QuotaExceeded`) before any row exists, and any error rolls every row back.
    """
    # Locking the config row serialises seed numbering for concurrent submissions of the same config.
    chosen = config
    config = TrainerConfig.objects.select_for_update().filter(pk=chosen.pk).first()  # type: ignore[assignment]
    if config is None:  # its owner deleted it (unused) after this form was loaded
        raise ConfigDeleted(f"{chosen} was deleted in the meantime; pick another config.")
    trpo = config.trpo_config()
    total_steps = planned_steps(trpo, environment)
    queue = routed_queue(trpo)
    check_quota(owner, n_seeds, total_steps)
    first_seed = Run.next_seed(config, environment)
    runs = [
        Run.objects.create(
            config=config,
            environment=environment,
            seed=first_seed + i,
            owner=owner,
            queue=queue,
            total_steps=total_steps,
        )
        for i in range(n_seeds)
    ]
    for run in runs:
        # robust: a broker that is down must neither fail the request (the rows are committed) nor stop the other
        # seeds' messages; a run whose message never left is published again by the reconciler.
        transaction.on_commit(lambda run=run: enqueue(run), robust=True)
    return runs


def cancel_run(run: Run) -> RunStatus | None:
    """Cancel ``run`` (:meth:`Run.request_cancel`). A queued run ends here, so this does what a worker does at the
    end of a run: a queued run that a worker had started (requeued after its worker died) holds a training state,
    which is freed, and ``run_finished`` is sent."""
    outcome = run.request_cancel()
    if outcome == RunStatus.CANCELLED:
        if run.resume_state:
            transaction.on_commit(lambda: discard_resume_state(run), robust=True)
        transaction.on_commit(lambda: announce_finished(run), robust=True)
    return outcome


class RunNotDeletable(Exception):
    """Only a finished run can be deleted: a queued or running one must be cancelled first."""


class RunAlreadyDeleted(Exception):
    """The run was deleted by another request (a double click) before this one reached it."""


def delete_run(run: Run) -> None:
    """Delete a finished run and its metrics (cascade); :func:`on_run_row_deleted` does the rest. Its steps stay
    on the owner's daily quota (:func:`web.runs.quotas.record_deletion`).

    The filtered DELETE acts only on a run still in a final status, so a run a worker has just claimed is never
    deleted under it.
    """
    with transaction.atomic():  # the quota charge and the deletion land together or not at all
        record_deletion(run)
        deleted, _ = Run.objects.filter(pk=run.pk, status__in=FINAL_STATUSES).delete()
        if not deleted:
            # Say what the row is now, not what the page saw: a second click found it deleted by the first.
            status = Run.objects.filter(pk=run.pk).values_list("status", flat=True).first()
            if status is None:
                raise RunAlreadyDeleted(f"Run {run.pk} was already deleted.")
            raise RunNotDeletable(f"Run {run.pk} is {RunStatus(status).label.lower()}; cancel it before deleting it.")


def on_run_row_deleted(sender: object, instance: Run, **kwargs: Any) -> None:
    """``post_delete`` of a Run, whatever deleted it (the delete button, the admin, a deleted user's cascade):
    once the deletion commits, remove its files (the public checkpoint and any training state), and send
    ``run_deleted`` so the leaderboard recomputes the entry the run counted in. Before this receiver only the
    delete button did either, and an admin deletion left the boards counting runs that no longer existed."""
    for field in ("checkpoint", "resume_state"):
        stored = getattr(instance, field, None)
        if stored:
            storage, name = stored.storage, stored.name
            transaction.on_commit(lambda storage=storage, name=name: storage.delete(name), robust=True)
    run_deleted.send(sender=Run, run=instance)
