"""Every form and every POST endpoint refuses a request without a CSRF token (403) and writes nothing.

Each case is also sent once *with* a valid token, so a 403 can only come from the missing token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from actors import (
    PASSWORD,
    config_form_data,
    environment_form_data,
    make_config,
    make_env,
    make_run,
    make_user,
    snapshot,
)
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from leaderboard.services import refresh_entry
from web.runs.models import RunStatus


@dataclass(frozen=True)
class Form:
    name: str
    url: Callable[[dict[str, Any]], str]
    data: Callable[[dict[str, Any]], dict[str, Any]]
    signed_in: bool = True


FORMS = [
    Form("signup", lambda w: reverse("accounts:signup"),
         lambda w: {"username": "newbie", "password1": PASSWORD, "password2": PASSWORD}, signed_in=False),
    Form("login", lambda w: reverse("accounts:login"),
         lambda w: {"username": "owner", "password": PASSWORD}, signed_in=False),
    Form("logout", lambda w: reverse("accounts:logout"), lambda w: {}),
    Form("password change", lambda w: reverse("accounts:password_change"),
         lambda w: {"old_password": PASSWORD, "new_password1": "An0ther-secret!", "new_password2": "An0ther-secret!"}),
    Form("environment create", lambda w: reverse("catalog:environment_create"), lambda w: environment_form_data()),
    Form("config create", lambda w: reverse("catalog:config_create"), lambda w: config_form_data()),
    Form("config edit", lambda w: reverse("catalog:config_edit", args=[w["config"].pk]),
         lambda w: config_form_data(description="changed")),
    Form("config delete", lambda w: reverse("catalog:config_delete", args=[w["config"].pk]), lambda w: {}),
    Form("run submit", lambda w: reverse("runs:submit"),
         lambda w: {"config": w["config"].pk, "environment": w["env"].pk, "seeds": 1}),
    Form("run cancel", lambda w: reverse("runs:cancel", args=[w["queued"].pk]), lambda w: {}),
    Form("run delete", lambda w: reverse("runs:delete", args=[w["finished"].pk]), lambda w: {}),
    Form("reproduce", lambda w: reverse("leaderboard:reproduce", args=[w["env"].slug, w["used"].pk]), lambda w: {}),
    Form("config import", lambda w: reverse("catalog:config_import"),
         lambda w: {"environment": w["env"].pk, "hyperparams": '{"target_kl": 0.02}'}),
]  # fmt: skip


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    owner = make_user("owner")
    env = make_env("cartpole-csrf")
    config, used = make_config(owner, "unused"), make_config(owner, "used")
    queued = make_run(owner, used, env, seed=0)
    finished = make_run(owner, used, env, seed=1, status=RunStatus.SUCCEEDED, final_return_mean=1.0)
    refresh_entry(used.pk, env.pk)
    return {"owner": owner, "env": env, "config": config, "used": used, "queued": queued, "finished": finished}


def _client(world: dict[str, Any], form: Form) -> Client:
    client = Client(enforce_csrf_checks=True)
    if form.signed_in:
        owner: User = world["owner"]
        client.force_login(owner)
    return client


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.name)
def test_it_refuses_a_post_without_a_token_and_writes_nothing(world: dict[str, Any], form: Form) -> None:
    client = _client(world, form)
    before = snapshot()
    response = client.post(form.url(world), form.data(world))
    assert response.status_code == 403, (form.name, response.status_code)
    assert snapshot() == before


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.name)
def test_it_refuses_a_forged_token(world: dict[str, Any], form: Form) -> None:
    client = _client(world, form)
    client.get(reverse("accounts:login"))  # sets a real csrftoken cookie
    before = snapshot()
    response = client.post(form.url(world), {**form.data(world), "csrfmiddlewaretoken": "x" * 64})
    assert response.status_code == 403, form.name
    assert snapshot() == before


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.name)
def test_it_accepts_the_same_post_with_a_valid_token(world: dict[str, Any], form: Form) -> None:
    """The control: the refusal above is the token's doing, not the request's."""
    client = _client(world, form)
    client.get(reverse("accounts:login"))
    token = client.cookies["csrftoken"].value
    response = client.post(form.url(world), {**form.data(world), "csrfmiddlewaretoken": token})
    assert response.status_code in (200, 302), (form.name, response.status_code)
