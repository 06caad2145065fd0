"""Submitting runs: one queued row per seed, enqueued after commit; bad input creates nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from web_helpers import TINY_PARAMS

from web.catalog.models import Environment, TrainerConfig
from web.catalog.shipped import DEFAULT_CONFIG_NAME
from web.runs.models import Run, RunStatus

URL = reverse("runs:submit")


@pytest.fixture
def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def form(config: TrainerConfig, env: Environment, seeds: Any) -> dict[str, Any]:
    return {"config": config.pk, "environment": env.pk, "seeds": seeds}


def test_it_creates_one_queued_run_per_seed_and_enqueues_them_after_commit(
    signed_in: Client, user: User, tiny_config: TrainerConfig, tiny_env: Environment,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = signed_in.post(URL, form(tiny_config, tiny_env, 3))
    runs = list(Run.objects.order_by("seed"))
    assert response.status_code == 302 and response.url == reverse("runs:mine")
    assert [r.seed for r in runs] == [0, 1, 2]
    assert {(r.status, r.owner, r.queue, r.total_steps) for r in runs} == {(RunStatus.QUEUED, user, "cpu", 2048)}
    assert len(callbacks) == 3  # nothing reaches the broker before the rows exist for the worker


def test_it_continues_the_seed_numbers_of_earlier_runs(
    signed_in: Client, tiny_config: TrainerConfig, tiny_env: Environment, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        signed_in.post(URL, form(tiny_config, tiny_env, 2))
        response = signed_in.post(URL, form(tiny_config, tiny_env, 1))
    run = Run.objects.order_by("-seed").first()
    assert run.seed == 2 and response.url == run.get_absolute_url()


@pytest.mark.parametrize(("seeds", "fragment"), [(0, "greater than or equal to 1"), (11, "less than or equal to 10")])
def test_it_rejects_zero_or_too_many_seeds(
    signed_in: Client, tiny_config: TrainerConfig, tiny_env: Environment, seeds: int, fragment: str
) -> None:
    response = signed_in.post(URL, form(tiny_config, tiny_env, seeds))
    assert fragment in " ".join(response.context["form"].errors["seeds"])
    assert not Run.objects.exists()


def test_it_rejects_an_unknown_environment(signed_in: Client, tiny_config: TrainerConfig) -> None:
    response = signed_in.post(URL, {"config": tiny_config.pk, "environment": 999999, "seeds": 1})
    assert "environment" in response.context["form"].errors
    assert not Run.objects.exists()


def test_it_does_not_let_anonymous_visitors_submit(
    client: Client, tiny_config: TrainerConfig, tiny_env: Environment
) -> None:
    response = client.post(URL, form(tiny_config, tiny_env, 1))
    assert response.status_code == 302 and reverse("accounts:login") in response.url
    assert not Run.objects.exists()


def test_it_routes_cuda_configs_to_the_gpu_queue(
    signed_in: Client, user: User, tiny_env: Environment, django_capture_on_commit_callbacks: Any
) -> None:
    config = TrainerConfig.objects.create(name="gpu", owner=user, params={"device": "cuda"})
    with django_capture_on_commit_callbacks(execute=False):
        signed_in.post(URL, form(config, tiny_env, 1))
    assert Run.objects.get().queue == "gpu"


@pytest.mark.parametrize(("device", "auto_queue"), [("cuda", "cpu"), ("auto", "gpu")])
def test_runs_for_the_gpu_queue_are_refused_where_no_worker_serves_it(
    signed_in: Client, user: User, tiny_env: Environment, settings: Any, device: str, auto_queue: str
) -> None:
    """They would wait forever, holding the user's run slots (scripts/run.sh sets this on a machine without CUDA)."""
    settings.TRUSTBOARD_GPU_WORKERS, settings.TRUSTBOARD_AUTO_QUEUE = False, auto_queue
    config = TrainerConfig.objects.create(name="gpu", owner=user, params={"device": device})
    response = signed_in.post(URL, form(config, tiny_env, 1))
    assert response.status_code == 200
    message = " ".join(response.context["form"].errors["config"])
    assert f"(device '{device}') go to the gpu queue, and this site runs no GPU workers" in message
    assert not Run.objects.exists()


def test_it_refuses_a_config_whose_batch_is_larger_than_the_budget(
    signed_in: Client, user: User, tiny_env: Environment
) -> None:
    """One batch of 4 × 1024 steps on a 2,048-step budget would train 4,096 steps, ranked beside runs of 2,048."""
    wide = TrainerConfig.objects.create(name="wide", owner=user, params={"n_envs": 4, "n_steps": 1024})
    response = signed_in.post(URL, form(wide, tiny_env, 2))
    assert response.status_code == 200
    message = " ".join(response.context["form"].errors["config"])
    assert "n_envs × n_steps = 4,096 steps" in message and "(2,048 steps)" in message
    assert not Run.objects.exists()


def test_the_page_shows_the_allowance_and_each_environments_budget(
    signed_in: Client, user: User, tiny_config: TrainerConfig, tiny_env: Environment,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False):
        signed_in.post(URL, form(tiny_config, tiny_env, 2))
    TrainerConfig.objects.create(name="stale", owner=user, params={"no_such_field": 1})  # no longer validates
    page = signed_in.get(URL)
    # Each config's batch, which the page's script rounds the budget down to (as planned_steps does); none for one
    # that the trainer refuses (the server says why on submit).
    assert page.context["batches"] == {str(tiny_config.pk): 256}
    allowance = page.context["allowance"]
    assert (allowance.active_runs, allowance.steps_today) == (2, 2 * tiny_env.budget_steps)
    html = page.content.decode()
    assert f"Runs queued or running: 2 of {allowance.max_active_runs}" in html
    assert f"({allowance.max_steps_per_day - 2 * tiny_env.budget_steps:,} left)" in html
    assert f'"{tiny_env.pk}": {tiny_env.budget_steps}' in html, "the budgets the page's script multiplies"


def config_options(html: str) -> list[str]:
    menu = html[html.index('<select name="config"') :].split("</select>")[0]
    return re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', menu)


def test_it_labels_each_config_with_its_owner_mine_and_the_shipped_ones_first(
    signed_in: Client, user: User, other_user: User, tiny_env: Environment
) -> None:
    """With hundreds of configs in one menu, "tiny v2" alone does not say whose it is."""
    TrainerConfig.objects.create(name="aaa", owner=other_user, params=TINY_PARAMS)
    TrainerConfig.objects.create(name="bbb", params=TINY_PARAMS)  # its account was deleted
    old = TrainerConfig.objects.create(name=DEFAULT_CONFIG_NAME, params=TINY_PARAMS)
    TrainerConfig.objects.create(name=DEFAULT_CONFIG_NAME, version=2, params=TINY_PARAMS, is_default=True, parent=old)
    v1 = TrainerConfig.objects.create(name="zzz", owner=user, params=TINY_PARAMS)
    TrainerConfig.objects.create(name="zzz", version=2, owner=user, params=TINY_PARAMS, parent=v1)
    assert config_options(signed_in.get(URL).content.decode()) == [
        "zzz v2 — alice",
        "zzz v1 — alice",
        f"{DEFAULT_CONFIG_NAME} v2 — shipped, default",
        f"{DEFAULT_CONFIG_NAME} v1 — shipped",
        "aaa v1 — mallory",
        "bbb v1 — no owner",
    ]


def test_the_page_runs_the_same_queries_however_many_owners_have_configs(
    signed_in: Client, user: User, tiny_env: Environment
) -> None:
    def queries(n: int) -> int:
        for i in range(n):
            owner = User.objects.create_user(f"owner-{n}-{i}")
            TrainerConfig.objects.create(name=f"cfg-{n}-{i}", owner=owner, params=TINY_PARAMS)
        with CaptureQueriesContext(connection) as ctx:
            html = signed_in.get(URL).content.decode()
        assert f"cfg-{n}-0 v1 — owner-{n}-0" in html
        return len(ctx.captured_queries)

    assert queries(2) == queries(30)
