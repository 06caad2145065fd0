"""Reproduce an entry: queue the same config on the same environment with the same seeds again.

``web.runs.services.submit_runs`` always numbers fresh seeds (new evidence); a reproduction must rerun the
recorded ones, so this mirrors its transaction and reuses its building blocks (queue choice, budget, enqueue on
commit) instead of re-implementing them. The board counts each seed once, so a reproduction never inflates
an entry's seed count (see ``services._one_per_seed``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from leaderboard.models import LeaderboardEntry
from web.catalog.models import TrainerConfig
from web.runs.models import ACTIVE_STATUSES, Run
from web.runs.quotas import QuotaExceeded, check_quota
from web.runs.services import SubmissionRefused, enqueue, planned_steps, routed_queue


class ReproduceRefused(Exception):
    """The reproduction was not queued; the message says why, for the user."""


@transaction.atomic
def reproduce_entry(owner: AbstractBaseUser, entry: LeaderboardEntry) -> list[Run]:
    """Queue one run per recorded seed of ``entry`` for ``owner`` (at most TRUSTBOARD_MAX_SEEDS)."""
    from trainer import ConfigError

    # Same lock as submit_runs: concurrent submissions of this config are serialised.
    config = TrainerConfig.objects.select_for_update().get(pk=entry.config_id)
    env = entry.environment
    pending = Run.objects.filter(owner=owner, config=config, environment=env, status__in=ACTIVE_STATUSES)
    if pending.exists():
        raise ReproduceRefused("You already have runs of this config queued or running on this environment.")
    seeds = sorted(set(entry.seeds))[: settings.TRUSTBOARD_MAX_SEEDS]
    if not seeds:
        raise ReproduceRefused("This entry has no recorded seeds.")
    try:
        trpo = config.trpo_config()
    except ConfigError as exc:  # params stored under an older trainer that no longer validate
        raise ReproduceRefused(f"This config no longer validates: {exc}") from exc
    try:
        total_steps = planned_steps(trpo, env)
        queue = routed_queue(trpo)
    except SubmissionRefused as exc:
        raise ReproduceRefused(str(exc)) from exc
    try:  # a reproduction is a submission like any other: the same quotas apply
        check_quota(owner, len(seeds), total_steps)
    except QuotaExceeded as exc:
        raise ReproduceRefused(str(exc)) from exc
    runs = [
        Run.objects.create(
            config=config,
            environment=env,
            seed=seed,
            owner=owner,
            queue=queue,
            total_steps=total_steps,
        )
        for seed in seeds
    ]
    for run in runs:
        # robust, as in submit_runs: a broker that is down must not turn the committed request into a 500 or stop
        # the other seeds' messages; the reconciler publishes what never left.
        transaction.on_commit(lambda run=run: enqueue(run), robust=True)
    return runs
