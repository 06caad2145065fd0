"""A worker killed with SIGKILL mid-training: a second worker resumes the run and ends exactly where an
uninterrupted run ends, with every metric row once."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from fault_support import SLOW_PARAMS, PrivateRedis, enqueue_in_subprocess, kill_tree, manage, worker_env

from trainer import TRPOConfig, evaluate, load_policy, train
from web.catalog.models import Environment, TrainerConfig
from web.runs.models import FINAL_STATUSES, Run, RunMetric, RunStatus

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CHECKPOINT_EVERY = 3


def _wait(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _strip(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if k != "time/steps_per_s"}


def test_a_run_survives_kill_9_and_resumes_on_another_worker(
    transactional_db: None, spawn_worker: Any, tmp_path: Path
) -> None:
    redis_server = PrivateRedis(tmp_path)
    try:
        _kill_and_resume(redis_server, spawn_worker, tmp_path)
    finally:
        redis_server.stop()


def _kill_and_resume(redis_server: PrivateRedis, spawn_worker: Any, tmp_path: Path) -> None:
    user = User.objects.create_user("kill-9", password="pw-123456789")
    env = Environment.objects.create(
        slug="cartpole-kill", gym_id="CartPole-v1", budget_steps=40 * 512, eval_episodes=3, eval_seed=777,
        random_return=22.0, reference_return=500.0, min_seeds=1,
    )  # fmt: skip
    config = TrainerConfig.objects.create(name="slow", owner=user, params=SLOW_PARAMS)
    environ = worker_env(
        redis_server.url, tmp_path / "media", TRUSTBOARD_CHECKPOINT_EVERY=str(CHECKPOINT_EVERY),
        TRUSTBOARD_HEARTBEAT_TIMEOUT="3", TRUSTBOARD_REQUEUE_AFTER="0",
    )  # fmt: skip

    worker_a = spawn_worker(environ, tmp_path / "worker-a.log")
    run = Run.objects.create(config=config, environment=env, seed=0, owner=user, total_steps=40 * 512)
    enqueue_in_subprocess(environ, [run.pk])

    def checkpointed_and_past_it() -> bool:
        run.refresh_from_db()
        return run.resume_update >= 2 * CHECKPOINT_EVERY and run.updates_done > run.resume_update

    _wait(checkpointed_and_past_it, 120, "a training state and at least one update after it")
    victims = kill_tree(worker_a.process.pid)
    killed_at = run.updates_done
    worker_a.process.wait(timeout=10)
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING, "nothing may have written the row after the kill"
    assert run.updates_done < 40, "the kill must land mid-training"
    assert len(victims) >= 2, "the main process and its pool child were both killed"

    worker_b = spawn_worker(environ, tmp_path / "worker-b.log")
    time.sleep(3.5)  # past the heartbeat deadline
    report = manage(environ, "reconcile_runs")
    assert f"requeued [{run.pk}]" in report, report

    def finished() -> Run | None:
        run.refresh_from_db()
        return run if run.status in FINAL_STATUSES else None

    _wait(finished, 180, "the resumed run to finish")
    assert run.status == RunStatus.SUCCEEDED, run.error + worker_b.output()[-3000:]
    assert run.attempts == 2
    assert f"resumes after update {run.resume_update}" not in worker_a.output()
    assert "resumes after update" in worker_b.output()

    rows = list(RunMetric.objects.filter(run=run).order_by("update"))
    assert [r.update for r in rows] == list(range(1, 41)), "every update exactly once, none missing"
    assert killed_at > 0

    # The same run, uninterrupted, in this process: identical metrics, evaluation and weights.
    reference = train(TRPOConfig.from_dict(SLOW_PARAMS), "CartPole-v1", total_steps=40 * 512, seed=run.seed,
                      checkpoint_every=CHECKPOINT_EVERY)  # fmt: skip
    assert [_strip(r.metrics) for r in rows] == [_strip(m) for m in reference.metrics]
    ev = evaluate(reference.agent, "CartPole-v1", episodes=3, seed=777)
    assert run.eval_returns == ev.returns
    policy = load_policy(tmp_path / "media" / run.checkpoint.name)  # the workers' storage
    import numpy as np

    obs = np.random.default_rng(0).normal(size=(32, 4))
    np.testing.assert_array_equal(policy.act(obs), reference.agent.policy().act(obs))
    # The worker discards the training state just after it marks the run succeeded (a crash in between must still
    # find the state), so the row seen above may predate the discard by a few milliseconds.
    pk = run.pk
    run = _wait(lambda: Run.objects.filter(pk=pk, resume_state="").first(), 30, "the training state's discard")
    assert not run.resume_state, "a finished run's training state is deleted"
