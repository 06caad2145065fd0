"""Per-user quotas on run submissions: runs queued or running at once, and training steps per rolling day.

Why: training is the expensive resource every user shares; one account must not be able to fill the queues
or the workers' day. Both limits are checked inside the submission's transaction, before any row is created,
with the user's row locked so two concurrent submissions by one user cannot both slip under the limit.

What counts: every run of the user that is queued or running (active limit), and the ``total_steps`` of
every run the user submitted in the last 24 hours (steps limit), except runs that never started
(``started_at`` is null) and then failed or were cancelled: they cost the workers nothing. A run its owner
deletes keeps counting until it ages out (``DeletedRunCharge``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from web.runs.models import ACTIVE_STATUSES, DeletedRunCharge, Run, RunStatus

DAY = timedelta(hours=24)


class QuotaExceeded(Exception):
    """A submission over a quota; the message says which limit, the usage and when room frees up."""


@dataclass(frozen=True)
class Usage:
    active_runs: int
    steps_today: int


def max_active_runs() -> int:
    return int(settings.TRUSTBOARD_MAX_ACTIVE_RUNS)


def max_steps_per_day() -> int:
    return int(settings.TRUSTBOARD_MAX_STEPS_PER_DAY)


def _not_counted() -> Q:
    """Runs that cost the user nothing they chose: failed or cancelled before they started, or failed by us."""
    never_started = Q(started_at__isnull=True, status__in=[RunStatus.FAILED, RunStatus.CANCELLED])
    return never_started | Q(status=RunStatus.FAILED, system_failure=True)


def _counted_today(owner: AbstractBaseUser, now: datetime) -> QuerySet[Run]:
    return Run.objects.filter(owner=owner, created_at__gt=now - DAY).exclude(_not_counted())


def _charges_today(owner: AbstractBaseUser, now: datetime) -> list[tuple[datetime, int]]:
    """(submitted at, steps) of every run that counts in the last 24 hours, deleted ones included, oldest first."""
    runs = _counted_today(owner, now).values_list("created_at", "total_steps")
    deleted = DeletedRunCharge.objects.filter(owner=owner, created_at__gt=now - DAY).values_list("created_at", "steps")
    return sorted([*runs, *deleted])


def record_deletion(run: Run, now: datetime | None = None) -> None:
    """Keep the steps of a run about to be deleted on its owner's quota, if they count today (call in the deletion's
    transaction, before the delete, so a deletion that fails records nothing)."""
    now = now or timezone.now()
    if _counted_today(run.owner, now).filter(pk=run.pk).exists():
        DeletedRunCharge.objects.create(owner_id=run.owner_id, created_at=run.created_at, steps=run.total_steps)
    DeletedRunCharge.objects.filter(owner_id=run.owner_id, created_at__lte=now - DAY).delete()  # aged out: no use


def usage(owner: AbstractBaseUser, now: datetime | None = None) -> Usage:
    now = now or timezone.now()
    active = Run.objects.filter(owner=owner, status__in=ACTIVE_STATUSES).count()
    steps = sum(steps for _, steps in _charges_today(owner, now))
    return Usage(active_runs=active, steps_today=int(steps))


@dataclass(frozen=True)
class Allowance:
    """What a user may still submit now, for the submit form to show before they try."""

    active_runs: int
    max_active_runs: int
    steps_today: int
    max_steps_per_day: int

    @property
    def runs_left(self) -> int:
        return max(0, self.max_active_runs - self.active_runs)

    @property
    def steps_left(self) -> int:
        return max(0, self.max_steps_per_day - self.steps_today)


def allowance(owner: AbstractBaseUser) -> Allowance:
    """The user's usage beside both limits (the same counting as :func:`check_quota`)."""
    current = usage(owner)
    return Allowance(current.active_runs, max_active_runs(), current.steps_today, max_steps_per_day())


def _steps_free_at(owner: AbstractBaseUser, now: datetime, needed: int) -> datetime | None:
    """When enough of today's steps have aged out of the 24-hour window to make room for ``needed`` more."""
    freed = 0
    for created_at, steps in _charges_today(owner, now):
        freed += steps
        if freed >= needed:
            return created_at + DAY
    return None


def check_quota(owner: AbstractBaseUser, n_runs: int, steps_per_run: int) -> None:
    """Raise :class:`QuotaExceeded` unless ``owner`` may queue ``n_runs`` more runs of ``steps_per_run`` steps.

    Call inside the submission's transaction: it locks the user's row until that transaction ends.
    """
    get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
    now = timezone.now()
    current = usage(owner, now)
    limit = max_active_runs()
    if current.active_runs + n_runs > limit:
        raise QuotaExceeded(
            f"Run limit reached: you may have at most {limit} runs queued or running at once; you have "
            f"{current.active_runs} and asked for {n_runs} more. Room frees up as your runs finish "
            f"(or when you cancel queued ones)."
        )
    requested = n_runs * steps_per_run
    day_limit = max_steps_per_day()
    if current.steps_today + requested > day_limit:
        over = current.steps_today + requested - day_limit
        free_at = _steps_free_at(owner, now, over) if requested <= day_limit else None
        when = (
            f"Enough frees up at {free_at:%Y-%m-%d %H:%M} UTC."
            if free_at is not None
            else "This submission alone is over the daily limit; submit fewer seeds."
        )
        raise QuotaExceeded(
            f"Daily step limit reached: you may submit at most {day_limit:,} training steps per 24 hours; you "
            f"have used {current.steps_today:,} and this submission needs {requested:,}. {when}"
        )
