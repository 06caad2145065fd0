"""Plain helpers for the bad-actor and bad-input tests: users, objects, and database snapshots.

Plain functions rather than fixtures, so these modules share nothing implicit with the fault tests that live
in the same folder. Every helper needs the database (use the ``db`` fixture).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

import form_data
from django.contrib.auth.models import User
from django.db import models

from leaderboard.models import Board, LeaderboardEntry, OverallEntry
from trainer import TRPOConfig
from web.catalog.models import Environment, TrainerConfig
from web.runs.models import Run, RunMetric

PASSWORD = "correct-horse-battery-staple"
TINY_PARAMS = TRPOConfig(
    n_steps=256, value_minibatch_size=64, value_epochs=2, hidden_sizes=(16,), value_hidden_sizes=(16,), device="cpu"
).to_dict()
# Every table a request could write: a snapshot of all of them tells a partial write from no write.
WATCHED: tuple[type[models.Model], ...] = (
    User, Environment, TrainerConfig, Run, RunMetric, LeaderboardEntry, OverallEntry, Board,
)  # fmt: skip
_counter = itertools.count()


def make_user(name: str | None = None, password: str = PASSWORD) -> User:
    return User.objects.create_user(name or f"user{next(_counter)}", password=password)


def make_env(slug: str | None = None, **fields: Any) -> Environment:
    defaults: dict[str, Any] = {
        "gym_id": "CartPole-v1", "budget_steps": 2048, "eval_episodes": 2, "eval_seed": 1000,
        "random_return": 22.0, "reference_return": 500.0, "min_seeds": 1,
    }  # fmt: skip
    return Environment.objects.create(slug=slug or f"env-{next(_counter)}", **{**defaults, **fields})


def make_config(owner: User | None, name: str | None = None, **fields: Any) -> TrainerConfig:
    return TrainerConfig.objects.create(
        name=name or f"cfg-{next(_counter)}", owner=owner, params=fields.pop("params", TINY_PARAMS), **fields
    )


def make_run(owner: User, config: TrainerConfig, env: Environment, **fields: Any) -> Run:
    defaults: dict[str, Any] = {"seed": next(_counter), "total_steps": 2048}
    return Run.objects.create(owner=owner, config=config, environment=env, **{**defaults, **fields})


# Signing in stamps last_login: that is the session's doing, not a write by the request under test.
IGNORED_COLUMNS = {"last_login"}


def snapshot(tables: Iterable[type[models.Model]] = WATCHED) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every watched table, ordered by key: equal snapshots mean nothing was written."""
    out = {}
    for model in tables:
        columns = [f.attname for f in model._meta.concrete_fields if f.attname not in IGNORED_COLUMNS]
        out[model._meta.label] = list(model.objects.order_by("pk").values_list(*columns))
    return out


def counts(tables: Iterable[type[models.Model]] = WATCHED) -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in tables}


def config_form_data(**overrides: Any) -> dict[str, Any]:
    """A valid config-form POST with a fresh name (so repeated submissions do not collide), with overrides."""
    return form_data.config_form_data(**{"name": f"cfg-form-{next(_counter)}", **overrides})


def environment_form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "slug": f"env-form-{next(_counter)}", "gym_id": "CartPole-v1", "kwargs": "{}", "budget_steps": 1000,
        "eval_episodes": 2, "eval_seed": 1000, "deterministic_eval": "on", "random_return": 0,
        "reference_return": 100, "reference_source": "", "min_seeds": 1, "description": "",
    }  # fmt: skip
    data.update(overrides)
    return data
