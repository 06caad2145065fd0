"""Only the owner changes, cancels or deletes a config or a run; nobody else changes anything.

Every mutating view is listed in MUTATING_VIEWS; for each, another signed-in user gets 403 or 404, an anonymous
visitor is sent to the log-in page, and a snapshot of every table is identical before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from actors import (
    config_form_data,
    environment_form_data,
    make_config,
    make_env,
    make_run,
    make_user,
    snapshot,
)
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from leaderboard.models import LeaderboardEntry
from leaderboard.services import refresh_entry
from web.catalog.models import Environment, TrainerConfig
from web.runs.models import Run, RunMetric, RunStatus


@dataclass
class World:
    owner: User
    intruder: User
    env: Environment
    config: TrainerConfig
    used_config: TrainerConfig
    queued: Run
    finished: Run


@pytest.fixture
def world(db: None) -> World:
    owner, intruder = make_user("owner"), make_user("intruder")
    env = make_env("cartpole-perm")
    config = make_config(owner, "unused")
    used = make_config(owner, "used")
    queued = make_run(owner, used, env, seed=0)
    finished = make_run(owner, used, env, seed=1, status=RunStatus.SUCCEEDED, final_return_mean=100.0,
                        final_return_std=1.0, eval_returns=[99.0, 101.0])  # fmt: skip
    RunMetric.objects.create(run=finished, update=1, steps=2048, metrics={"rollout/ep_return_mean": 50.0})
    refresh_entry(used.pk, env.pk)
    return World(owner, intruder, env, config, used, queued, finished)


@dataclass(frozen=True)
class Mutation:
    """One mutating request: the URL (from the world) and the POST body (or None for a GET)."""

    name: str
    url: Callable[[World], str]
    data: Callable[[World], dict[str, Any] | None]
    owner_only: bool  # False: any signed-in user may use it, on their own behalf


MUTATING_VIEWS = [
    Mutation("config edit (form)", lambda w: reverse("catalog:config_edit", args=[w.config.pk]), lambda w: None, True),
    Mutation("config edit (in place)", lambda w: reverse("catalog:config_edit", args=[w.config.pk]),
             lambda w: config_form_data(description="pwned", max_kl=0.5), True),
    Mutation("config edit (new version)", lambda w: reverse("catalog:config_edit", args=[w.used_config.pk]),
             lambda w: config_form_data(description="pwned", max_kl=0.5), True),
    Mutation("config delete", lambda w: reverse("catalog:config_delete", args=[w.config.pk]), lambda w: {}, True),
    Mutation("config delete (used)", lambda w: reverse("catalog:config_delete", args=[w.used_config.pk]),
             lambda w: {}, True),
    Mutation("run cancel", lambda w: reverse("runs:cancel", args=[w.queued.pk]), lambda w: {}, True),
    Mutation("run delete", lambda w: reverse("runs:delete", args=[w.finished.pk]), lambda w: {}, True),
    Mutation("environment create", lambda w: reverse("catalog:environment_create"),
             lambda w: environment_form_data(), False),
    Mutation("config create", lambda w: reverse("catalog:config_create"), lambda w: config_form_data(), False),
    Mutation("run submit", lambda w: reverse("runs:submit"),
             lambda w: {"config": w.config.pk, "environment": w.env.pk, "seeds": 1}, False),
    Mutation("reproduce", lambda w: reverse("leaderboard:reproduce", args=[w.env.slug, w.used_config.pk]),
             lambda w: {}, False),
    Mutation("password change", lambda w: reverse("accounts:password_change"),
             lambda w: {"old_password": "x", "new_password1": "n3w-Passw0rd!", "new_password2": "n3w-Passw0rd!"},
             False),
]  # fmt: skip


def send(client: Client, world: World, mutation: Mutation) -> Any:
    data = mutation.data(world)
    url = mutation.url(world)
    return client.get(url) if data is None else client.post(url, data)


@pytest.mark.parametrize("mutation", [m for m in MUTATING_VIEWS if m.owner_only], ids=lambda m: m.name)
def test_it_refuses_another_user_and_changes_nothing(client: Client, world: World, mutation: Mutation) -> None:
    before = snapshot()
    client.force_login(world.intruder)
    response = send(client, world, mutation)
    assert response.status_code in (403, 404), (mutation.name, response.status_code)
    assert snapshot() == before


@pytest.mark.parametrize("mutation", MUTATING_VIEWS, ids=lambda m: m.name)
def test_it_sends_anonymous_visitors_to_log_in_and_changes_nothing(
    client: Client, world: World, mutation: Mutation
) -> None:
    before = snapshot()
    response = send(client, world, mutation)
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login")), mutation.name
    assert snapshot() == before


def test_it_lets_the_owner_delete_an_unused_config(client: Client, world: World) -> None:
    client.force_login(world.owner)
    response = client.post(reverse("catalog:config_delete", args=[world.config.pk]))
    assert response.status_code == 302
    assert not TrainerConfig.objects.filter(pk=world.config.pk).exists()


def test_it_keeps_a_config_that_runs_use_even_for_its_owner(client: Client, world: World) -> None:
    before = snapshot()
    client.force_login(world.owner)
    response = client.post(reverse("catalog:config_delete", args=[world.used_config.pk]), follow=True)
    assert "has runs" in response.content.decode()
    assert snapshot() == before


def test_it_keeps_the_default_config(client: Client, world: World) -> None:
    TrainerConfig.objects.filter(pk=world.config.pk).update(is_default=True)
    before = snapshot()
    client.force_login(world.owner)
    response = client.post(reverse("catalog:config_delete", args=[world.config.pk]), follow=True)
    assert "default config" in response.content.decode()
    assert snapshot() == before


def test_it_refuses_get_on_delete_views(client: Client, world: World) -> None:
    client.force_login(world.owner)
    assert client.get(reverse("catalog:config_delete", args=[world.config.pk])).status_code == 405
    assert client.get(reverse("runs:delete", args=[world.finished.pk])).status_code == 405


def test_it_deletes_a_finished_run_its_file_and_its_leaderboard_entry(
    client: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    name = default_storage.save(f"checkpoints/test/run-{world.finished.pk}.safetensors", ContentFile(b"x" * 16))
    Run.objects.filter(pk=world.finished.pk).update(checkpoint=name)
    assert LeaderboardEntry.objects.filter(config=world.used_config, environment=world.env).exists()
    client.force_login(world.owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("runs:delete", args=[world.finished.pk]))
    assert response.status_code == 302 and response.url == reverse("runs:mine")
    assert not Run.objects.filter(pk=world.finished.pk).exists()
    assert not RunMetric.objects.filter(run_id=world.finished.pk).exists()
    assert not default_storage.exists(name)
    # The only succeeded run is gone, so the board no longer has this entry.
    assert not LeaderboardEntry.objects.filter(config=world.used_config, environment=world.env).exists()


def test_it_refuses_to_delete_an_active_run_even_for_its_owner(client: Client, world: World) -> None:
    before = snapshot()
    client.force_login(world.owner)
    response = client.post(reverse("runs:delete", args=[world.queued.pk]), follow=True)
    assert "cancel it before deleting" in response.content.decode()
    assert snapshot() == before


def test_it_shows_delete_buttons_only_to_the_owner(client: Client, world: World) -> None:
    config_url, run_url = reverse("catalog:config", args=[world.config.pk]), world.finished.get_absolute_url()
    client.force_login(world.intruder)
    assert "delete-config-form" not in client.get(config_url).content.decode()
    assert "delete-form" not in client.get(run_url).content.decode()
    client.force_login(world.owner)
    assert "delete-config-form" in client.get(config_url).content.decode()
    assert "delete-form" in client.get(run_url).content.decode()


def test_it_reproduces_only_into_the_requesting_users_own_runs(client: Client, world: World) -> None:
    """Reproduce is open to any signed-in user, but it creates their runs and touches nobody else's."""
    owners_runs = snapshot([Run])
    client.force_login(world.intruder)
    response = client.post(reverse("leaderboard:reproduce", args=[world.env.slug, world.used_config.pk]))
    assert response.status_code == 302
    new = Run.objects.exclude(pk__in=[r[0] for r in owners_runs["runs.Run"]])
    assert new.exists() and set(new.values_list("owner", flat=True)) == {world.intruder.pk}
    assert snapshot([Run])["runs.Run"][: len(owners_runs["runs.Run"])] == owners_runs["runs.Run"]


def test_it_keeps_the_admin_for_staff(client: Client, world: World) -> None:
    client.force_login(world.intruder)
    before = snapshot()
    response = client.post(reverse("admin:catalog_trainerconfig_delete", args=[world.config.pk]), {"post": "yes"})
    assert response.status_code == 302 and "login" in response.url
    assert snapshot() == before
