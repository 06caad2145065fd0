"""Importing an sb3-contrib / rl-zoo TRPO entry: translated per environment, reviewed, then saved as usual."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from trainer import TRPOConfig
from web.catalog.models import Environment, TrainerConfig

URL = reverse("catalog:config_import")
ZOO_ENTRY = {"n_envs": 2, "n_steps": 1024, "target_kl": 0.04, "cg_damping": 0.1, "normalize": True}


@pytest.fixture
def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def pendulum(db: None) -> Environment:
    return Environment.objects.create(
        slug="pendulum", gym_id="Pendulum-v1", budget_steps=2048, eval_episodes=2, eval_seed=1000,
        random_return=-1200.0, reference_return=-175.0, min_seeds=1,
    )  # fmt: skip


@pytest.fixture
def halfcheetah(db: None) -> Environment:
    return Environment.objects.create(
        slug="halfcheetah", gym_id="HalfCheetah-v5", budget_steps=2048, eval_episodes=2, eval_seed=1000,
        random_return=-300.0, reference_return=1786.0, min_seeds=1,
    )  # fmt: skip


def translate(client: Client, slug: str, hyperparams: str) -> dict[str, object]:
    response = client.post(URL, {"environment": slug, "hyperparams": hyperparams})
    assert response.status_code == 200
    return response.context


def test_an_entry_prefills_the_config_form_with_the_kl_scaled_by_the_action_dimensions(
    signed_in: Client, halfcheetah: Environment
) -> None:
    context = translate(signed_in, "halfcheetah", json.dumps(ZOO_ENTRY))
    form = context["form"]
    assert form.initial["max_kl"] == 0.24 and form.initial["cg_damping"] == 0.6, "no float noise (0.6000000000000001)"
    assert (form.initial["n_envs"], form.initial["n_steps"], form.initial["normalize_rewards"]) == (2, 1024, True)
    assert "× 6 action dimensions" in form.initial["description"]
    assert not TrainerConfig.objects.exists(), "nothing is saved before the user reviews it"


def test_the_prefilled_form_saves_the_translated_config(signed_in: Client, pendulum: Environment) -> None:
    page = signed_in.post(URL, {"environment": "pendulum", "hyperparams": json.dumps(ZOO_ENTRY)})
    html = page.content.decode()
    assert f'action="{reverse("catalog:config_create")}"' in html and "Translated from sb3-contrib" in html
    initial = page.context["form"].initial
    data = {k: v for k, v in initial.items() if v is not False}
    data["hidden_sizes"] = data["value_hidden_sizes"] = "64, 64"
    data["name"] = "zoo-pendulum"
    saved = signed_in.post(reverse("catalog:config_create"), data)
    assert saved.status_code == 302, saved.context["form"].errors if saved.context else saved
    params = TrainerConfig.objects.get(name="zoo-pendulum").params
    expected = TRPOConfig(max_kl=0.04, cg_damping=0.1, n_envs=2, n_steps=1024)  # 1-D actions: unscaled
    assert (params["max_kl"], params["cg_damping"], params["n_envs"]) == (
        expected.max_kl,
        expected.cg_damping,
        expected.n_envs,
    )
    assert params["normalize_observations"] and params["normalize_rewards"]


@pytest.mark.parametrize(
    ("hyperparams", "fragment"),
    [
        ('{"ent_coef": 0.01}', "ent_coef: is not an sb3-contrib TRPO or rl-zoo setting"),
        ('{"target_kl": 5}', "max_kl: must be in (0, 1]"),
        ('{"target_kl": NaN}', "NaN is not a number"),
        ("[1, 2]", "must be a mapping"),
        ("{not json", "neither JSON nor YAML"),
        ("a: &x 1\nb: *x\n", "aliases (*x, line 2) are not accepted"),
        ('{"policy_kwargs": {"ortho_init": false}}', "policy_kwargs.ortho_init"),
        ('{"gamma": 1' + "0" * 400 + "}", "gamma: must be a number"),  # float() overflowed: a 500 until 2026-12-01
        ("n_timesteps: " + "9" * 400, "n_timesteps: must be a whole number of steps"),  # a 500 until 2026-12-02
        ("n_timesteps: .nan", "n_timesteps: must be a whole number of steps"),
        ("n_timesteps: -.inf", "n_timesteps: must be a whole number of steps"),
        ("n_timesteps: 0", "n_timesteps: must be a whole number of steps"),
    ],
)
def test_bad_entries_are_explained_and_nothing_is_saved(
    signed_in: Client, pendulum: Environment, hyperparams: str, fragment: str
) -> None:
    context = translate(signed_in, "pendulum", hyperparams)
    errors = " ".join(context["form"].errors.get("hyperparams", []))
    assert fragment in errors, context["form"].errors
    assert not TrainerConfig.objects.exists()


def test_an_rl_zoo_yaml_entry_is_translated_and_what_it_cannot_carry_is_said(
    signed_in: Client, halfcheetah: Environment
) -> None:
    yaml_entry = (
        "HalfCheetah-v3:\n  normalize: true\n  n_envs: 2\n  n_timesteps: !!float 1e6\n  target_kl: 0.04\n"
        '  policy_kwargs: "dict(activation_fn=nn.ReLU, net_arch=dict(pi=[128, 128], vf=[64, 64]))"\n'
    )
    page = signed_in.post(URL, {"environment": "halfcheetah", "hyperparams": yaml_entry})
    initial = page.context["form"].initial
    assert (initial["max_kl"], initial["activation"], initial["n_envs"]) == (0.24, "relu", 2)
    assert (initial["hidden_sizes"], initial["value_hidden_sizes"]) == ([128, 128], [64, 64])
    assert "Translated from the rl-zoo entry for HalfCheetah-v3" in initial["description"]
    html = page.content.decode()
    assert "The entry was written for HalfCheetah-v3; this environment is HalfCheetah-v5." in html
    assert "n_timesteps (1,000,000) is a training budget" in html and "train for 2,048 steps" in html
    assert not TrainerConfig.objects.exists()


def test_an_expression_in_an_entry_is_refused_not_run(signed_in: Client, pendulum: Environment) -> None:
    context = translate(signed_in, "pendulum", "policy_kwargs: \"__import__('os').getcwd()\"\n")
    errors = " ".join(context["form"].errors.get("hyperparams", []))
    assert "is not understood: only literals, dict(...) and names" in errors
    assert not TrainerConfig.objects.exists()


def test_an_unknown_environment_is_refused(signed_in: Client, pendulum: Environment) -> None:
    context = translate(signed_in, "no-such-env", json.dumps(ZOO_ENTRY))
    assert "environment" in context["form"].errors


def test_it_needs_a_signed_in_user(client: Client, pendulum: Environment) -> None:
    response = client.post(URL, {"environment": "pendulum", "hyperparams": "{}"})
    assert response.status_code == 302 and "login" in response.url
    assert not TrainerConfig.objects.exists()


def test_the_config_list_links_to_it(signed_in: Client) -> None:
    assert URL in signed_in.get(reverse("catalog:configs")).content.decode()
