"""The broker loses its queue (a real Redis restart) and the database drops out mid-run (a real TCP outage)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from fault_support import (
    SLOW_PARAMS,
    PrivateRedis,
    database_url,
    enqueue_in_subprocess,
    manage,
    worker_env,
)
from faultproxy import FaultProxy

from web.catalog.models import Environment, TrainerConfig
from web.runs.models import FINAL_STATUSES, Run, RunMetric, RunStatus

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
TINY = {**SLOW_PARAMS, "n_steps": 256, "value_epochs": 2}


def _pair(name: str, budget: int, params: dict[str, Any]) -> tuple[User, TrainerConfig, Environment]:
    user = User.objects.create_user(name, password="pw-123456789")
    env = Environment.objects.create(
        slug=f"cartpole-{name}", gym_id="CartPole-v1", budget_steps=budget, eval_episodes=2, eval_seed=5,
        random_return=22.0, reference_return=500.0, min_seeds=1,
    )  # fmt: skip
    return user, TrainerConfig.objects.create(name=name, owner=user, params=params), env


def _wait_final(runs: list[Run], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for run in runs:
            run.refresh_from_db()
        if all(run.status in FINAL_STATUSES for run in runs):
            return
        time.sleep(0.2)
    raise AssertionError(f"runs not final after {timeout}s: {[(r.pk, r.status) for r in runs]}")


def test_queued_runs_survive_a_redis_restart_that_empties_the_queue(
    transactional_db: None, spawn_worker: Any, tmp_path: Path
) -> None:
    redis_server = PrivateRedis(tmp_path)
    try:
        user, config, env = _pair("redis-restart", 1024, TINY)
        runs = [Run.objects.create(config=config, environment=env, seed=s, owner=user, total_steps=1024)
                for s in range(2)]  # fmt: skip
        environ = worker_env(redis_server.url, tmp_path / "media", TRUSTBOARD_REQUEUE_AFTER="0")
        enqueue_in_subprocess(environ, [r.pk for r in runs])
        assert redis_server.client().llen("cpu") == 2
        # While the broker holds their messages, the reconciler leaves waiting runs alone (no duplicates).
        assert "re-enqueued []" in manage(environ, "reconcile_runs")
        assert redis_server.client().llen("cpu") == 2

        redis_server.restart()  # no persistence: the queue is gone
        assert redis_server.client().llen("cpu") == 0
        worker = spawn_worker(environ, tmp_path / "worker.log")
        time.sleep(2)
        for run in runs:
            run.refresh_from_db()
            assert run.status == RunStatus.QUEUED, "no message, so no worker can know about it"

        report = manage(environ, "reconcile_runs")
        assert f"re-enqueued {sorted(r.pk for r in runs)}" in report, report
        _wait_final(runs, 120)
        assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * 2, worker.output()[-3000:]
        assert all(r.attempts == 1 for r in runs), "each run trained once"
        assert "re-enqueued []" in manage(environ, "reconcile_runs")
    finally:
        redis_server.stop()


def test_a_run_completes_through_a_postgresql_outage(transactional_db: None, spawn_worker: Any, tmp_path: Path) -> None:
    redis_server = PrivateRedis(tmp_path)
    proxy = FaultProxy("127.0.0.1", 5432)
    try:
        user, config, env = _pair("pg-outage", 40 * 512, SLOW_PARAMS)
        run = Run.objects.create(config=config, environment=env, seed=0, owner=user, total_steps=40 * 512)
        environ = worker_env(
            redis_server.url, tmp_path / "media", DATABASE_URL=database_url(proxy.port),
            TRUSTBOARD_DB_RETRY_SECONDS="60", CONN_MAX_AGE="600",
        )  # fmt: skip
        worker = spawn_worker(environ, tmp_path / "worker.log")
        enqueue_in_subprocess(worker_env(redis_server.url, tmp_path / "media"), [run.pk])
        deadline = time.monotonic() + 120
        while run.updates_done < 4:
            assert time.monotonic() < deadline, worker.output()[-3000:]
            time.sleep(0.05)
            run.refresh_from_db()
        with proxy.outage(4.0):
            stalled_at = Run.objects.get(pk=run.pk).updates_done
        _wait_final([run], 180)

        assert run.status == RunStatus.SUCCEEDED, run.error + worker.output()[-3000:]
        assert stalled_at < 40, "the outage hit mid-training"
        assert proxy.connections_refused > 0, "the worker tried to reach the database during the outage"
        assert "database unavailable" in worker.output()
        updates = list(RunMetric.objects.filter(run=run).order_by("update").values_list("update", flat=True))
        assert updates == list(range(1, 41))
        assert run.attempts == 1, "it rode the outage out instead of being restarted"
    finally:
        proxy.close()
        redis_server.stop()
