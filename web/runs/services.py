"""Submitting runs: one row per seed in one transaction, each enqueued only once that transaction commits."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from web.catalog.models import Environment, TrainerConfig
from web.runs.models import Queue, Run


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


def enqueue(run: Run) -> None:
    from web.runs.tasks import train_run

    limits = time_limits(run.environment)
    train_run.apply_async(args=[run.pk], queue=run.queue, soft_time_limit=limits.soft, time_limit=limits.hard)


@transaction.atomic
def submit_runs(owner: AbstractBaseUser, config: TrainerConfig, environment: Environment, n_seeds: int) -> list[Run]:
    """Create ``n_seeds`` queued runs with fresh seeds for this (config, environment) and enqueue them on commit."""
    from trainer import steps_for_budget

    # Locking the config row serialises seed numbering for concurrent submissions of the same config.
    config = TrainerConfig.objects.select_for_update().get(pk=config.pk)
    trpo = config.trpo_config()
    first_seed = Run.next_seed(config, environment)
    runs = [
        Run.objects.create(
            config=config,
            environment=environment,
            seed=first_seed + i,
            owner=owner,
            queue=queue_for(trpo.device),
            total_steps=steps_for_budget(trpo, environment.budget_steps),
        )
        for i in range(n_seeds)
    ]
    for run in runs:
        transaction.on_commit(lambda run=run: enqueue(run))
    return runs
