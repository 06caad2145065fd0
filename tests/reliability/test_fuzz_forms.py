"""Fuzz every form: no input gives a server error, and a rejected input writes nothing at all.

Each example starts from a valid POST of the form, replaces some fields with one class of bad value (see
``fuzzing.CLASSES``) or drops them, and posts it as a signed-in user (or anonymously for sign-up and log-in).
Examples run inside a savepoint that is rolled back, so each one sees the same database. Counts per class are
written to ``var/reliability/fuzz_forms.json``.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from actors import (
    PASSWORD,
    config_form_data,
    counts,
    environment_form_data,
    make_config,
    make_env,
    make_run,
    make_user,
    snapshot,
)
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import models, transaction
from django.test import Client
from django.urls import reverse
from fuzzing import CLASS_NAMES, CLASSES, FUZZ_SETTINGS, MISSING, Tally, per_class
from hypothesis import given
from hypothesis import strategies as st

from web.catalog.models import Environment, TrainerConfig
from web.runs.models import Run

TALLY = Tally("fuzz_forms")


@dataclass(frozen=True)
class Target:
    name: str
    url: Callable[[dict[str, Any]], str]
    valid: Callable[[dict[str, Any]], dict[str, Any]]
    signed_in: bool
    may_change: tuple[type[models.Model], ...]  # the only tables an accepted post may add rows to


NEW_PASSWORD = "An0ther-secret-pass!"
TARGETS = [
    Target("environment", lambda w: reverse("catalog:environment_create"),
           lambda w: environment_form_data(slug="fuzz-env"), True, (Environment,)),
    Target("config (new)", lambda w: reverse("catalog:config_create"),
           lambda w: config_form_data(name="fuzz-config"), True, (TrainerConfig,)),
    Target("config (edit)", lambda w: reverse("catalog:config_edit", args=[w["config"].pk]),
           lambda w: config_form_data(description="edited"), True, (TrainerConfig,)),
    Target("config (edit, new version)", lambda w: reverse("catalog:config_edit", args=[w["used"].pk]),
           lambda w: config_form_data(description="edited"), True, (TrainerConfig,)),
    Target("run submission", lambda w: reverse("runs:submit"),
           lambda w: {"config": w["config"].pk, "environment": w["env"].pk, "seeds": 2}, True, (Run,)),
    Target("signup", lambda w: reverse("accounts:signup"),
           lambda w: {"username": "fuzzed", "password1": PASSWORD, "password2": PASSWORD}, False, (User,)),
    Target("login", lambda w: reverse("accounts:login"),
           lambda w: {"username": "owner", "password": PASSWORD}, False, ()),
    Target("password change", lambda w: reverse("accounts:password_change"),
           lambda w: {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
           True, ()),
]  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    TALLY.write_report()


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    owner = make_user("owner")
    env = make_env("cartpole-fuzz")
    config, used = make_config(owner, "fuzz-unused"), make_config(owner, "fuzz-used")
    make_run(owner, used, env, seed=0)
    return {"owner": owner, "env": env, "config": config, "used": used}


def _failure(response: Any) -> str:
    exc = getattr(response, "exc_info", None)
    return "".join(traceback.format_exception(*exc))[-3000:] if exc else response.content[:500].decode(errors="replace")


def post_once(target: Target, world: dict[str, Any], data: dict[str, Any]) -> str:
    """Post in a rolled-back savepoint; assert no 500 and no partial write; return the outcome's name."""
    with transaction.atomic():
        cache.clear()  # log-in counters and cached pages: every example starts the same
        client = Client(raise_request_exception=False)
        if target.signed_in:
            client.force_login(world["owner"])
        before, before_counts = snapshot(), counts()
        response = client.post(target.url(world), data)
        assert response.status_code < 500, (
            f"{target.name}: {response.status_code} for {data!r:.300}\n{_failure(response)}"
        )
        if response.status_code == 302:
            outcome = "accepted"
            labels = {m._meta.label for m in target.may_change}
            after_counts = counts()
            changed = {k for k in after_counts if after_counts[k] != before_counts[k]}
            assert changed <= labels, f"{target.name} wrote to {changed - labels} for {data!r:.300}"
        else:
            outcome = f"rejected {response.status_code}"
            assert snapshot() == before, f"{target.name}: partial write on a rejected post {data!r:.300}"
        transaction.set_rollback(True)
    return outcome


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_it_never_answers_500_nor_half_writes_a_rejected_form(world: dict[str, Any], target: Target) -> None:
    valid = target.valid(world)

    def fuzz_class(kind: str) -> None:
        @per_class(FUZZ_SETTINGS, len(CLASS_NAMES))
        @given(data=st.data())
        def example(data: st.DataObject) -> None:
            fields = data.draw(st.lists(st.sampled_from(sorted(valid)), min_size=1, max_size=3, unique=True))
            post = dict(valid)
            for name in fields:
                if kind == MISSING:
                    post.pop(name)
                else:
                    post[name] = data.draw(CLASSES[kind], label=name)
            TALLY.record(target.name, kind, post_once(target, world, post))

        example()

    # One Hypothesis run per class: every class gets its share of the examples, whatever the draws would favour.
    for kind in CLASS_NAMES:
        fuzz_class(kind)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_the_valid_post_of_each_target_is_accepted(world: dict[str, Any], target: Target) -> None:
    """The control: the fuzz starts from a post that works, so rejections are the bad values' doing."""
    assert post_once(target, world, target.valid(world)) == "accepted"


SWEEP_VALUES = [
    "\x00", "²", "nan", "-inf", "9" * 30, "9" * 5000, "-1", "", "x" * 2001, "[" * 1000 + "]" * 1000, '{"a": "\\u0000"}',
    ["1", "2"],
]  # fmt: skip


# "config (edit)" posts the same form as "config (edit, new version)"; sweeping it too would only cost time.
@pytest.mark.parametrize("target", [t for t in TARGETS if t.name != "config (edit)"], ids=lambda t: t.name)
def test_it_survives_every_tricky_value_in_every_field(world: dict[str, Any], target: Target) -> None:
    """A sweep, not a sample: each known-awkward value alone in each field, the rest of the post valid."""
    valid = target.valid(world)
    for name in sorted(valid):
        for value in SWEEP_VALUES:
            TALLY.record(target.name, "tricky-value sweep", post_once(target, world, {**valid, name: value}))


@pytest.mark.parametrize(
    ("field", "value"), [("hidden_sizes", "9" * 100), ("n_steps", "9" * 400), ("max_kl", "9" * 400)]
)
def test_it_rejects_integers_too_large_for_a_float(world: dict[str, Any], field: str, value: str) -> None:
    """Regression: ``math.isnan(10**400)`` raised OverflowError inside the trainer's validation (a 500)."""
    target = next(t for t in TARGETS if t.name == "config (new)")
    assert post_once(target, world, {**target.valid(world), field: value}) == "rejected 200"
