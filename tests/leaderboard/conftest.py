"""Leaderboard fixtures: environments, configs and finished runs created directly with the ORM."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from web.catalog.models import Environment, TrainerConfig
from web.runs.models import Run, RunMetric

_counter = itertools.count()


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Rendered fragments are cached per board version; tests start cold."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def make_env(db: None) -> Callable[..., Environment]:
    def make(slug: str | None = None, **fields: Any) -> Environment:
        defaults: dict[str, Any] = {
            "gym_id": "CartPole-v1", "budget_steps": 4096, "eval_episodes": 4, "random_return": 0.0,
            "reference_return": 100.0, "min_seeds": 3, "counts_overall": True,
        }  # fmt: skip
        defaults.update(fields)
        return Environment.objects.create(slug=slug or f"env-{next(_counter)}", **defaults)

    return make


@pytest.fixture
def make_config(db: None) -> Callable[..., TrainerConfig]:
    def make(name: str | None = None, params: dict[str, Any] | None = None, **fields: Any) -> TrainerConfig:
        return TrainerConfig.objects.create(
            name=name or f"cfg-{next(_counter)}", params=params or {"max_kl": 0.01}, **fields
        )

    return make


def curve_metrics(final: float, budget: int, updates: int = 4) -> list[tuple[int, dict[str, float]]]:
    """A straight learning curve from 0 to ``final`` over the budget, as (steps, metrics) per update."""
    step = budget // updates
    return [
        ((u + 1) * step, {"rollout/ep_return_mean": final * (u + 1) / updates, "train/kl": 0.01})
        for u in range(updates)
    ]


@pytest.fixture
def owner(db: None) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("runner", password="pw-runner-123")


@pytest.fixture
def make_runs(owner: Any) -> Callable[..., list[Run]]:
    """Finished runs with evaluation returns and a learning curve, one per final score given."""

    def make(
        config: TrainerConfig,
        env: Environment,
        finals: Sequence[float],
        *,
        status: str = "succeeded",
        curves: bool = True,
        first_seed: int = 0,
    ) -> list[Run]:
        runs = []
        for i, final in enumerate(finals):
            run = Run.objects.create(
                config=config, environment=env, seed=first_seed + i, status=status, owner=owner,
                final_return_mean=final if status == "succeeded" else None, final_return_std=1.0,
                eval_returns=[final - 1.0, final, final, final + 1.0], eval_lengths=[10, 10, 10, 10],
                steps_done=env.budget_steps, updates_done=4, wall_clock_s=10.0 + i, steps_per_s=100.0,
            )  # fmt: skip
            if curves:
                RunMetric.objects.bulk_create(
                    RunMetric(run=run, update=u, steps=s, metrics=m)
                    for u, (s, m) in enumerate(curve_metrics(final, env.budget_steps))
                )
            runs.append(run)
        return runs

    return make


@pytest.fixture
def board(make_env, make_config, make_runs) -> dict[str, Any]:
    """A computed board: two tied configs, one clearly behind, one provisional; default config included."""
    from leaderboard import services

    env = make_env(slug="cartpole", min_seeds=3, random_return=0.0, reference_return=100.0)
    default = make_config(name="default", is_default=True, params={"max_kl": 0.01, "gamma": 0.99, "activation": "tanh"})
    strong = make_config(name="strong", params={"max_kl": 0.02, "gamma": 0.99, "activation": "tanh"})
    close = make_config(name="close", params={"max_kl": 0.03, "gamma": 0.98, "activation": "relu"})
    short = make_config(name="short", params={"max_kl": 0.05, "gamma": 0.95, "activation": "tanh"})
    make_runs(default, env, [10.0, 12.0, 14.0])
    make_runs(strong, env, [80.0, 90.0, 100.0])
    make_runs(close, env, [78.0, 85.0, 92.0])
    make_runs(short, env, [99.0])
    services.recompute_all()
    return {"env": env, "default": default, "strong": strong, "close": close, "short": short}


@pytest.fixture
def control_queue() -> Callable[[], list[tuple[str, list[Any]]]]:
    """The real broker's ``control`` queue, emptied first; calling the fixture takes its messages out and returns
    each one's (task name, args), oldest first."""
    import base64
    import json

    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(settings.CONTROL_QUEUE)

    def take() -> list[tuple[str, list[Any]]]:
        raw = client.lrange(settings.CONTROL_QUEUE, 0, -1)
        client.delete(settings.CONTROL_QUEUE)
        messages = []
        for payload in reversed(raw):  # kombu pushes on the left and pops on the right
            message = json.loads(payload)
            body = base64.b64decode(message["body"]) if message["properties"]["body_encoding"] == "base64" else ""
            messages.append((message["headers"]["task"], json.loads(body or message["body"])[0]))
        return messages

    return take
