"""Quotas: runs queued or running at once, and training steps per rolling 24 hours, per user.

The tiny environment's budget is 2048 steps and the tiny config trains in whole batches of 256, so every run
here is exactly 2048 steps.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from actors import make_config, make_env, make_run, make_user, snapshot
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leaderboard.services import refresh_entry
from web.runs import quotas
from web.runs.models import Run, RunStatus
from web.runs.services import submit_runs

URL = reverse("runs:submit")
STEPS = 2048


@pytest.fixture
def setup(db: None, settings: Any, client: Client) -> dict[str, Any]:
    settings.TRUSTBOARD_MAX_ACTIVE_RUNS = 3
    settings.TRUSTBOARD_MAX_STEPS_PER_DAY = 10 * STEPS
    user = make_user("alice")
    env = make_env("cartpole-quota")
    config = make_config(user, "tiny")
    client.force_login(user)
    return {"user": user, "env": env, "config": config, "client": client}


def submit(s: dict[str, Any], seeds: int) -> Any:
    return s["client"].post(URL, {"config": s["config"].pk, "environment": s["env"].pk, "seeds": seeds})


def test_it_refuses_runs_over_the_active_limit_and_creates_none_of_them(setup: dict[str, Any]) -> None:
    make_run(setup["user"], setup["config"], setup["env"])
    make_run(setup["user"], setup["config"], setup["env"], status=RunStatus.RUNNING, started_at=timezone.now())
    before = snapshot()
    response = submit(setup, 2)  # 2 active + 2 > 3: not even one of the two is created
    assert response.status_code == 429
    body = response.content.decode()
    assert "at most 3 runs queued or running" in body and "you have 2" in body and "asked for 2 more" in body
    assert snapshot() == before
    assert submit(setup, 1).status_code == 302
    assert Run.objects.filter(owner=setup["user"], status=RunStatus.QUEUED).count() == 2


def test_it_does_not_count_finished_runs_as_active(setup: dict[str, Any]) -> None:
    for status in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED):
        make_run(setup["user"], setup["config"], setup["env"], status=status, started_at=timezone.now())
    assert submit(setup, 3).status_code == 302


def test_it_refuses_steps_over_the_daily_limit_and_says_when_they_free(setup: dict[str, Any]) -> None:
    old = make_run(setup["user"], setup["config"], setup["env"], status=RunStatus.SUCCEEDED,
                   started_at=timezone.now())  # fmt: skip
    created = timezone.now() - timedelta(hours=20)
    Run.objects.filter(pk=old.pk).update(created_at=created)
    for _ in range(8):
        make_run(setup["user"], setup["config"], setup["env"], status=RunStatus.SUCCEEDED, started_at=timezone.now())
    before = snapshot()
    response = submit(setup, 2)  # 9 × 2048 used + 2 × 2048 > 10 × 2048
    body = response.content.decode()
    assert response.status_code == 429
    assert "at most 20,480 training steps per 24 hours" in body
    assert "used 18,432" in body and "needs 4,096" in body
    # The oldest run (2048 steps) ages out first, and that is enough room.
    assert f"{created + timedelta(hours=24):%Y-%m-%d %H:%M} UTC" in body
    assert snapshot() == before
    assert submit(setup, 1).status_code == 302


def test_it_forgets_steps_older_than_a_day(setup: dict[str, Any]) -> None:
    for _ in range(10):
        make_run(setup["user"], setup["config"], setup["env"], status=RunStatus.SUCCEEDED, started_at=timezone.now())
    assert submit(setup, 1).status_code == 429
    Run.objects.update(created_at=timezone.now() - timedelta(hours=24, minutes=1))
    assert submit(setup, 1).status_code == 302


def test_deleting_finished_runs_gives_no_steps_back_until_they_age_out(setup: dict[str, Any]) -> None:
    """Train to the limit, delete the runs, train again: the deleted runs' steps still count for their day."""
    runs = [make_run(setup["user"], setup["config"], setup["env"], status=RunStatus.SUCCEEDED,
                     started_at=timezone.now()) for _ in range(10)]  # fmt: skip
    never_started = make_run(setup["user"], setup["config"], setup["env"], status=RunStatus.CANCELLED)
    for run in [*runs, never_started]:
        assert setup["client"].post(reverse("runs:delete", args=[run.pk])).status_code == 302
    assert not Run.objects.filter(owner=setup["user"]).exists()
    assert quotas.usage(setup["user"]).steps_today == 10 * STEPS, "a run that never started cost nothing"
    response = submit(setup, 1)
    assert response.status_code == 429 and "used 20,480" in response.content.decode()
    quotas.DeletedRunCharge.objects.update(created_at=timezone.now() - timedelta(hours=24, minutes=1))
    assert submit(setup, 1).status_code == 302
    Run.objects.update(status=RunStatus.SUCCEEDED, started_at=timezone.now())
    setup["client"].post(reverse("runs:delete", args=[Run.objects.get().pk]))
    assert quotas.DeletedRunCharge.objects.count() == 1, "charges that aged out are dropped at the next deletion"


def test_a_refused_deletion_charges_nothing(setup: dict[str, Any]) -> None:
    running = make_run(setup["user"], setup["config"], setup["env"], status=RunStatus.RUNNING,
                       started_at=timezone.now())  # fmt: skip
    setup["client"].post(reverse("runs:delete", args=[running.pk]))
    assert Run.objects.filter(pk=running.pk).exists() and not quotas.DeletedRunCharge.objects.exists()


def test_it_does_not_count_runs_failed_or_cancelled_before_they_started(setup: dict[str, Any]) -> None:
    for status in (RunStatus.FAILED, RunStatus.CANCELLED):
        for _ in range(10):
            make_run(setup["user"], setup["config"], setup["env"], status=status, total_steps=10**9)
    assert quotas.usage(setup["user"]).steps_today == 0
    assert submit(setup, 3).status_code == 302


def test_it_counts_runs_cancelled_or_failed_after_they_started(setup: dict[str, Any]) -> None:
    """The user's own doing (a diverging config, a cancel after training began) costs the steps it took."""
    for status in (RunStatus.FAILED, RunStatus.CANCELLED):
        make_run(setup["user"], setup["config"], setup["env"], status=status, started_at=timezone.now(),
                 total_steps=9 * STEPS)  # fmt: skip
    assert quotas.usage(setup["user"]).steps_today == 18 * STEPS
    assert submit(setup, 1).status_code == 429


def test_it_does_not_count_runs_the_system_failed_even_after_they_started(setup: dict[str, Any]) -> None:
    for _ in range(2):
        make_run(setup["user"], setup["config"], setup["env"], status=RunStatus.FAILED, started_at=timezone.now(),
                 total_steps=9 * STEPS, system_failure=True)  # fmt: skip
    assert quotas.usage(setup["user"]).steps_today == 0
    assert submit(setup, 1).status_code == 302


def test_it_counts_only_the_users_own_runs(setup: dict[str, Any]) -> None:
    other = make_user("bob")
    for _ in range(5):
        make_run(other, setup["config"], setup["env"], total_steps=10**9)
    assert submit(setup, 3).status_code == 302


def test_it_refuses_a_submission_larger_than_a_whole_day(setup: dict[str, Any], settings: Any) -> None:
    settings.TRUSTBOARD_MAX_STEPS_PER_DAY = STEPS
    settings.TRUSTBOARD_MAX_ACTIVE_RUNS = 20
    response = submit(setup, 2)
    assert response.status_code == 429 and "submit fewer seeds" in response.content.decode()
    assert not Run.objects.exists()


def test_it_applies_the_same_quotas_to_reproductions(setup: dict[str, Any], settings: Any) -> None:
    owner = make_user("carol")
    for seed in range(3):
        make_run(owner, setup["config"], setup["env"], seed=seed, status=RunStatus.SUCCEEDED,
                 final_return_mean=10.0, started_at=timezone.now())  # fmt: skip
    refresh_entry(setup["config"].pk, setup["env"].pk)
    make_run(setup["user"], make_config(setup["user"]), setup["env"])  # alice: 1 active, limit 3, entry has 3 seeds
    before = snapshot([Run])
    response = setup["client"].post(reverse("leaderboard:reproduce", args=[setup["env"].slug, setup["config"].pk]),
                                    follow=True)  # fmt: skip
    assert "Run limit reached" in response.content.decode()
    assert snapshot([Run]) == before


def test_it_writes_no_run_when_a_later_seed_fails(setup: dict[str, Any]) -> None:
    """All or nothing even when the failure is not a quota: the third row's error rolls back the first two."""
    real_create = Run.objects.create
    calls = {"n": 0}

    def flaky_create(**fields: Any) -> Run:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("database went away")
        return real_create(**fields)

    with mock.patch.object(Run.objects, "create", side_effect=flaky_create), pytest.raises(RuntimeError):
        submit_runs(setup["user"], setup["config"], setup["env"], 3)
    assert not Run.objects.exists()
