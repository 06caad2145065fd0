"""A real user in headless Chromium: sign in, submit a run, watch its page update live and its charts render."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from web_helpers import PASSWORD, TINY_PARAMS

from web import numbers
from web.catalog.models import Environment, TrainerConfig
from web.runs.models import Run
from web.runs.services import planned_steps

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]


def sign_in(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/runs/mine/")


def signed_in_with_cartpole(page: Any, base_url: str, username: str) -> tuple[Environment, TrainerConfig]:
    """A new user signed in, a CartPole environment of 6,144 steps (24 updates of TINY_PARAMS) and a tiny config."""
    User.objects.create_user(username, password=PASSWORD)
    env = Environment.objects.create(
        slug=f"cartpole-{username}", gym_id="CartPole-v1", budget_steps=6144, eval_episodes=2,
        random_return=22.0, reference_return=500.0, min_seeds=1,
    )  # fmt: skip
    config = TrainerConfig.objects.create(name=f"tiny-{username}", params=TINY_PARAMS)
    sign_in(page, base_url, username)
    return env, config


def test_it_submits_a_run_and_watches_it_train_without_reloading(live_server: Any, live_worker: Any, page: Any) -> None:
    # 24 updates: long enough that the page is first drawn while the run is still queued or running.
    env, config = signed_in_with_cartpole(page, live_server.url, "walter")

    page.goto(f"{live_server.url}/runs/new/")
    page.select_option("select[name=config]", str(config.pk))
    page.select_option("select[name=environment]", str(env.pk))
    page.fill("input[name=seeds]", "1")
    done = live_worker.tasks_done()
    page.click("form.form button[type=submit]")
    run = Run.objects.get(config=config)
    page.wait_for_url(f"**/runs/{run.pk}/")

    first_status = page.evaluate("JSON.parse(document.getElementById('run-state').textContent).status")
    assert first_status in {"queued", "running"}
    page.evaluate("window.__notReloaded = true")
    page.wait_for_selector("#chart-learning_curve.js-plotly-plot .main-svg", state="attached")

    page.wait_for_selector("body[data-run-status=succeeded]", timeout=120_000)
    assert page.evaluate("window.__notReloaded === true"), "the page reloaded instead of updating in place"
    points = page.evaluate("document.getElementById('chart-learning_curve').data[0].x.length")
    assert points == 24
    assert page.inner_text("[data-field=steps_done]") == "6,144"
    run.refresh_from_db()  # run.js writes the live numbers as the server's templates do (web/numbers.py)
    for field, shown in (("final_return_mean", numbers.ret), ("final_return_std", numbers.ret),
                         ("wall_clock_s", numbers.seconds), ("steps_per_s", numbers.rate),
                         ("eval_returns", numbers.returns_list)):  # fmt: skip
        assert page.inner_text(f"[data-field={field}]") == shown(getattr(run, field)), field
    assert page.is_visible("#checkpoint-link")
    assert page.locator("#chart-kl .main-svg").count() >= 1
    assert page.is_hidden("#cancel-form")
    live_worker.wait_until_done(done + 1)


def test_it_imports_an_rl_zoo_entry_and_saves_it_as_a_config(live_server: Any, page: Any) -> None:
    User.objects.create_user("iris", password=PASSWORD)
    Environment.objects.create(
        slug="halfcheetah-browser", gym_id="HalfCheetah-v5", budget_steps=2048, eval_episodes=2,
        random_return=-300.0, reference_return=1786.0, min_seeds=1,
    )  # fmt: skip
    sign_in(page, live_server.url, "iris")

    page.goto(f"{live_server.url}/configs/")
    page.click("text=Import sb3-contrib settings")
    page.select_option("select[name=environment]", "halfcheetah-browser")
    entry = (  # pasted as rl-zoo's trpo.yml writes it
        "HalfCheetah-v3:\n  n_envs: 2\n  n_steps: 1024\n  target_kl: 0.04\n"
        '  policy_kwargs: "dict(net_arch=dict(pi=[32, 32], vf=[64, 64]))"\n'
    )
    page.fill("textarea[name=hyperparams]", entry)
    page.click("form.form button[type=submit]")
    page.wait_for_selector("text=Translated from sb3-contrib settings for halfcheetah-browser")
    assert page.is_visible("text=The entry was written for HalfCheetah-v3; this environment is HalfCheetah-v5.")
    assert float(page.input_value("input[name=max_kl]")) == pytest.approx(0.24)
    assert page.input_value("input[name=hidden_sizes]") == "32, 32"
    page.fill("input[name=name]", "zoo-halfcheetah")
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/configs/*/")
    saved = TrainerConfig.objects.get(name="zoo-halfcheetah")
    assert saved.params["max_kl"] == pytest.approx(0.24) and saved.params["n_steps"] == 1024
    assert saved.params["hidden_sizes"] == [32, 32] and saved.params["value_hidden_sizes"] == [64, 64]


def test_the_submit_form_shows_what_a_submission_costs_before_it_is_sent(
    live_server: Any, page: Any, settings: Any
) -> None:
    settings.TRUSTBOARD_MAX_STEPS_PER_DAY = 10_000
    env, config = signed_in_with_cartpole(page, live_server.url, "sasha")
    # Batches of 1,000 do not divide the 6,144-step budget (a run trains 6,000); one of 8,192 is larger than it.
    uneven = TrainerConfig.objects.create(name="uneven-sasha", params={**TINY_PARAMS, "n_steps": 1000})
    too_big = TrainerConfig.objects.create(name="too-big-sasha", params={**TINY_PARAMS, "n_steps": 8192})
    assert planned_steps(uneven.trpo_config(), env) == 6000, "what the server charges each run"
    page.goto(f"{live_server.url}/runs/new/")
    page.select_option("select[name=config]", str(config.pk))
    assert "Training steps in the last 24 hours: 0 of 10,000 (10,000 left)" in page.inner_text("#allowance")
    page.select_option("select[name=environment]", str(env.pk))
    page.fill("input[name=seeds]", "1")
    cost = page.locator("#submission-cost")
    assert cost.inner_text() == "This submission: 1 run × 6,144 steps = 6,144 steps."
    page.select_option("select[name=config]", str(uneven.pk))
    assert cost.inner_text() == (
        "This submission: 1 run × 6,000 steps (the 6,144-step budget in whole batches of 1,000) = 6,000 steps."
    )
    page.select_option("select[name=config]", str(too_big.pk))
    assert cost.inner_text().startswith("One batch of this config (8,192 steps) is larger than this environment's")
    assert "over" in (cost.get_attribute("class") or "")
    page.select_option("select[name=config]", str(config.pk))
    page.fill("input[name=seeds]", "2")
    assert "12,288 steps. That is over the 10,000 steps you have left today." in cost.inner_text()
    assert "over" in (cost.get_attribute("class") or "")
    page.click("form.form button[type=submit]")  # the server's check stands behind the page's warning
    page.wait_for_selector("text=Daily step limit reached")
    assert not Run.objects.exists()
    # A second click while the first is on its way sends nothing (a double click queued the runs twice).
    page.fill("input[name=seeds]", "1")
    page.evaluate("document.querySelector('form.form').addEventListener('submit', e => e.preventDefault())")
    page.click("form.form button[type=submit]")
    assert page.locator("form.form button[type=submit]").is_disabled()
