"""Web fixtures: users, a tiny CartPole environment and a tiny TRPO config that train in a few seconds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from web_helpers import PASSWORD, TINY_PARAMS

from web.catalog.models import Environment, TrainerConfig
from web.runs.models import Run


@pytest.fixture
def user(db: None) -> User:
    return User.objects.create_user("alice", password=PASSWORD)


@pytest.fixture
def other_user(db: None) -> User:
    return User.objects.create_user("mallory", password=PASSWORD)


@pytest.fixture
def tiny_env(db: None) -> Environment:
    return Environment.objects.create(
        slug="cartpole-tiny", gym_id="CartPole-v1", budget_steps=2048, eval_episodes=2, eval_seed=1000,
        random_return=22.0, reference_return=500.0, min_seeds=1,
    )  # fmt: skip


@pytest.fixture
def tiny_config(db: None, user: User) -> TrainerConfig:
    return TrainerConfig.objects.create(name="tiny", owner=user, params=TINY_PARAMS)


@pytest.fixture
def make_run(tiny_env: Environment, tiny_config: TrainerConfig, user: User) -> Callable[..., Run]:
    def make(**fields: Any) -> Run:
        defaults: dict[str, Any] = {"config": tiny_config, "environment": tiny_env, "seed": 0, "owner": user}
        return Run.objects.create(**{**defaults, "total_steps": 2048, **fields})

    return make
