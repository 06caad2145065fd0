"""End to end on the real services: web form → PostgreSQL row → Redis → a real Celery worker → results.

The worker is a separate process (see ``live_worker`` in tests/conftest.py), so these tests use
``transactional_db``: the rows they create are committed and visible to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from web_helpers import TINY_PARAMS, wait_for

from trainer import METRIC_NAMES, load_policy
from web.catalog.models import Environment, TrainerConfig
from web.runs.models import FINAL_STATUSES, Run, RunStatus

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def setup_pair(budget_steps: int) -> tuple[User, TrainerConfig, Environment]:
    user = User.objects.create_user("e2e-user", password="pw-123456789")
    env = Environment.objects.create(
        slug=f"cartpole-{budget_steps}", gym_id="CartPole-v1", budget_steps=budget_steps, eval_episodes=2,
        eval_seed=1000, random_return=22.0, reference_return=500.0, min_seeds=1,
    )  # fmt: skip
    config = TrainerConfig.objects.create(name=f"tiny-{budget_steps}", owner=user, params=TINY_PARAMS)
    return user, config, env


def submit(client: Client, config: TrainerConfig, env: Environment) -> Run:
    response = client.post(reverse("runs:submit"), {"config": config.pk, "environment": env.pk, "seeds": 1})
    run = Run.objects.get(config=config)
    assert response.status_code == 302 and response.url == run.get_absolute_url()
    return run


def final(run: Run, timeout: float) -> Run:
    def done() -> Run | None:
        run.refresh_from_db()
        return run if run.status in FINAL_STATUSES else None

    return wait_for(done, timeout, f"run {run.pk} to finish")


def test_it_trains_a_run_submitted_through_the_form(
    transactional_db: None, live_worker: Any, client: Client, tmp_path: Path
) -> None:
    user, config, env = setup_pair(budget_steps=2048)
    client.force_login(user)
    done = live_worker.tasks_done()
    run = final(submit(client, config, env), timeout=120)
    live_worker.wait_until_done(done + 1)

    assert run.status == RunStatus.SUCCEEDED, run.error + live_worker.output()[-3000:]
    assert run.worker_host and run.steps_done == 2048 and run.updates_done == 8
    feed = client.get(reverse("runs:status", args=[run.pk])).json()
    assert [row["update"] for row in feed["metrics"]] == list(range(1, 9))
    assert set(feed["metrics"][-1]["metrics"]) == set(METRIC_NAMES)
    assert len(run.eval_returns) == 2 and run.final_return_mean is not None
    assert feed["has_checkpoint"]

    response = client.get(reverse("runs:checkpoint", args=[run.pk]))
    assert response.status_code == 200
    assert f'filename="run-{run.pk}.safetensors"' in response["Content-Disposition"]
    path = tmp_path / f"run-{run.pk}.safetensors"
    path.write_bytes(b"".join(response.streaming_content))
    policy = load_policy(path)
    obs, _ = gym.make("CartPole-v1").reset(seed=0)
    assert policy.act(obs) in (0, 1)


def test_it_stops_a_running_run_when_its_owner_cancels(
    transactional_db: None, live_worker: Any, client: Client
) -> None:
    user, config, env = setup_pair(budget_steps=2_000_000)
    client.force_login(user)
    done = live_worker.tasks_done()
    run = submit(client, config, env)

    def started() -> bool:
        run.refresh_from_db()
        return run.updates_done >= 1

    wait_for(started, 60, "the first update")
    client.post(reverse("runs:cancel", args=[run.pk]))
    run = final(run, timeout=60)
    live_worker.wait_until_done(done + 1)
    assert run.status == RunStatus.CANCELLED, run.error
    assert 1 <= run.updates_done < 2_000_000 // 256 and not run.checkpoint
    assert run.metrics.count() == run.updates_done
