"""Nothing a user submits can run code, and every text field and request body is bounded.

No import paths (``module:Class``) anywhere an environment id enters; only gymnasium's own environments; kwargs
are shallow plain JSON naming no files; no pickles (a pickled "checkpoint" is refused by the reader); the API
is read-only; request bodies, field counts and every text field have a maximum size.
"""

from __future__ import annotations

import io
import json
import pickle
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from actors import environment_form_data, make_config, make_env, make_run, make_user, snapshot
from django import forms
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models
from django.test import Client
from django.urls import reverse

from trainer import CheckpointError, load_policy
from trainer.envs import make_env as trainer_make_env
from trainer.envs import make_vector_env
from web.catalog.forms import EnvironmentForm, TrainerConfigForm
from web.catalog.models import Environment, TrainerConfig
from web.runs.forms import RunFilterForm, SubmitRunForm
from web.runs.models import Run, RunStatus

SENTINEL_MODULE = "trustboard_evil_sentinel"


@pytest.fixture
def signed_in(client: Client, db: None) -> Client:
    client.force_login(make_user("alice"))
    return client


def post_env(client: Client, **overrides: Any) -> tuple[Any, dict[str, list[str]]]:
    before = snapshot([Environment])
    response = client.post(reverse("catalog:environment_create"), environment_form_data(**overrides))
    assert response.status_code == 200, "a refused environment re-renders the form"
    assert snapshot([Environment]) == before
    return response, response.context["form"].errors


@pytest.mark.parametrize(
    "gym_id", [f"{SENTINEL_MODULE}:Env", "os:system", "gymnasium.envs.classic_control:CartPoleEnv"]
)
def test_it_refuses_import_paths_without_importing_them(signed_in: Client, gym_id: str) -> None:
    _, errors = post_env(signed_in, gym_id=gym_id)
    assert "Import paths" in " ".join(errors["gym_id"])
    assert SENTINEL_MODULE not in sys.modules


@pytest.mark.parametrize("gym_id", ["GymV26Environment-v0", "GymV21Environment-v0", "Hopper-v3"])
def test_it_refuses_registered_ids_implemented_outside_gymnasium(signed_in: Client, gym_id: str) -> None:
    """Compatibility shims take kwargs such as env_id/make_kwargs that build arbitrary environments."""
    _, errors = post_env(signed_in, gym_id=gym_id)
    assert "allow-list" in " ".join(errors["gym_id"])


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ('{"xml_file": "/etc/passwd"}', "not allowed"),
        ('{"render_mode": "human"}', "not allowed"),
        ('{"env_id": "os:system"}', "not allowed"),
        ('{"entry_point": "os:system"}', "not allowed"),
        ('{"max_episode_steps": NaN}', "NaN is not allowed"),
        ('{"max_episode_steps": Infinity}', "Infinity is not allowed"),
        ('{"__class__": 1}', "not a keyword argument name"),
        ('{"Max Steps": 1}', "not a keyword argument name"),
        ('{"a": ' * 6 + "1" + "}" * 6, "Nested too deeply"),
        ("[" * 2000 + "]" * 2000, "Nested too deeply"),  # was a RecursionError (500) before the fix
        # Shallow enough for json.loads, too deep for a recursive depth count (a 500 until 2026-12-01).
        ('{"a": ' + "[" * 400 + "]" * 400 + "}", "Nested too deeply"),
        ("[1, 2]", "Must be a JSON object"),
        # An evaluation of 100 such episodes would hold a worker for days (found in review, 2026-12-01).
        ('{"max_episode_steps": 1000000000}', "max_episode_steps must be an integer from 1 to 100,000"),
        ('{"max_episode_steps": "200"}', "max_episode_steps must be an integer"),
        ('{"max_episode_steps": 1' + "0" * 5000 + "}", "at most 4096 characters"),
    ],
)
def test_it_refuses_unsafe_or_malformed_kwargs(signed_in: Client, kwargs: str, fragment: str) -> None:
    _, errors = post_env(signed_in, kwargs=kwargs)
    assert fragment in " ".join(errors["kwargs"]), errors


def test_it_accepts_plain_kwargs_for_an_allowed_id(signed_in: Client) -> None:
    response = signed_in.post(reverse("catalog:environment_create"),
                              environment_form_data(slug="cp-200", kwargs='{"max_episode_steps": 200}'))  # fmt: skip
    assert response.status_code == 302
    assert Environment.objects.get(slug="cp-200").kwargs == {"max_episode_steps": 200}


def test_the_admin_uses_the_same_checks(client: Client, db: None) -> None:
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("root", password="x-secret-x"))
    before = snapshot([Environment])
    response = client.post(reverse("admin:catalog_environment_add"), environment_form_data(gym_id="os:system"))
    assert response.status_code == 200 and "Import paths" in response.content.decode()
    assert snapshot([Environment]) == before


@pytest.mark.parametrize("build", [trainer_make_env, lambda gym_id, kw: make_vector_env(gym_id, kw, 1)])
def test_the_trainer_refuses_import_paths_stored_behind_the_forms_back(build: Any) -> None:
    """A row written straight into the database still cannot make a worker import anything."""
    with pytest.raises(ValueError, match="not a valid gymnasium id"):
        build(f"{SENTINEL_MODULE}:Env", {})
    assert SENTINEL_MODULE not in sys.modules


class _Exploit:
    """Unpickling this creates a file: proof that the pickle was (or was not) executed."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


def _download(client: Client, run: Run) -> bytes:
    response = client.get(reverse("runs:checkpoint", args=[run.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def _torch_style_zip(payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", payload)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["pickle", "torch.save zip"])
def test_it_refuses_a_pickled_checkpoint_placed_in_storage(client: Client, db: None, tmp_path: Path, kind: str) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Exploit(marker))
    body = payload if kind == "pickle" else _torch_style_zip(payload)
    owner = make_user()
    run = make_run(owner, make_config(owner), make_env(), status=RunStatus.SUCCEEDED)
    name = default_storage.save(f"checkpoints/test/run-{run.pk}.safetensors", ContentFile(body))
    Run.objects.filter(pk=run.pk).update(checkpoint=name)
    downloaded = tmp_path / "run.safetensors"
    downloaded.write_bytes(_download(client, run))
    with pytest.raises(CheckpointError, match="pickle"):
        load_policy(downloaded)
    assert not marker.exists(), "the pickle must never be executed"
    default_storage.delete(name)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_json_api_is_read_only(client: Client, db: None, method: str) -> None:
    owner = make_user()
    env, config = make_env("api-env"), make_config(owner)
    run = make_run(owner, config, env)
    urls = [reverse("api:index"), reverse("api:environments"), reverse("api:environment", args=[env.slug]),
            reverse("api:configs"), reverse("api:config", args=[config.pk]), reverse("api:runs"),
            reverse("api:run", args=[run.pk]), reverse("api:leaderboards"),
            reverse("api:leaderboard", args=[env.slug])]  # fmt: skip
    before = snapshot()
    for url in urls:
        body = json.dumps({"gym_id": "os:system", "status": "succeeded"})
        response = getattr(client, method)(url, body, content_type="application/json")
        assert response.status_code == 405, (method, url)
    assert snapshot() == before


# --- sizes ------------------------------------------------------------------------------------------------------


def test_every_text_column_of_our_models_has_a_maximum_length() -> None:
    from leaderboard.models import Board, LeaderboardEntry, OverallEntry

    for model in (Environment, TrainerConfig, Run, LeaderboardEntry, OverallEntry, Board):
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField):
                assert field.max_length, f"{model.__name__}.{field.name}"
    # TextFields people type into are bounded by max_length (forms enforce it); the rest are system-written.
    for model, name in ((Environment, "description"), (TrainerConfig, "description")):
        assert model._meta.get_field(name).max_length == 2000


@pytest.mark.parametrize("form_class", [EnvironmentForm, TrainerConfigForm, SubmitRunForm, RunFilterForm])
def test_every_text_input_of_every_form_is_bounded(db: None, form_class: type[forms.Form]) -> None:
    form = form_class()
    for name, field in form.fields.items():
        if isinstance(field, forms.CharField):
            assert field.max_length, f"{form_class.__name__}.{name} has no max_length"


def test_it_refuses_an_over_long_description_and_writes_nothing(signed_in: Client) -> None:
    _, errors = post_env(signed_in, description="x" * 2001)
    assert "at most 2000 characters" in " ".join(errors["description"])


def test_the_request_size_limits_are_set() -> None:
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE is not None and settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 5 * 2**20
    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS is not None and settings.DATA_UPLOAD_MAX_NUMBER_FIELDS <= 1000
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 5 * 2**20


def test_it_answers_400_to_a_body_over_the_memory_limit_and_writes_nothing(signed_in: Client) -> None:
    before = snapshot()
    data = environment_form_data(description="x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
    response = signed_in.post(reverse("catalog:environment_create"), data)
    assert response.status_code == 400
    assert snapshot() == before


def test_it_answers_400_to_too_many_fields_and_writes_nothing(signed_in: Client) -> None:
    before = snapshot()
    data = {**environment_form_data(), **{f"f{i}": "1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}}
    response = signed_in.post(reverse("catalog:environment_create"), data)
    assert response.status_code == 400
    assert snapshot() == before
