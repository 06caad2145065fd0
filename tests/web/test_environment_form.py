"""Registering an environment: it must build in gymnasium here, and nothing is saved otherwise."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from web.catalog.models import Environment, EnvironmentLockedError

URL = reverse("catalog:environment_create")


def post(client: Client, **overrides: Any) -> Any:
    data = {
        "slug": "cartpole-short", "gym_id": "CartPole-v1", "kwargs": "{}", "budget_steps": 10000,
        "eval_episodes": 5, "eval_seed": 0, "deterministic_eval": "on", "random_return": 22,
        "reference_return": 500, "min_seeds": 3, "description": "short",
    } | overrides  # fmt: skip
    return client.post(URL, data)


@pytest.fixture
def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def assert_rejected(response: Any, field: str, fragment: str) -> None:
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert fragment in " ".join(errors[field])
    assert fragment.split("'")[0] in response.content.decode()
    assert not Environment.objects.exists()


def test_it_registers_a_buildable_environment_and_records_its_spaces(signed_in: Client, user: User) -> None:
    response = post(signed_in, kwargs='{"sutton_barto_reward": true}')
    env = Environment.objects.get(slug="cartpole-short")
    assert response.status_code == 302
    assert env.kwargs == {"sutton_barto_reward": True}
    assert env.created_by == user
    assert "Box" in env.observation_space and env.action_space == "Discrete(2)"
    assert "Discrete(2)" in signed_in.get(env.get_absolute_url()).content.decode()


def test_it_keeps_where_the_reference_return_comes_from(signed_in: Client) -> None:
    source = "the maximum, one point per step <b>(500 steps)</b>"
    post(signed_in, reference_source=f"  {source} ")
    env = Environment.objects.get(slug="cartpole-short")
    assert env.reference_source == source
    page = signed_in.get(env.get_absolute_url()).content.decode()
    assert "one point per step &lt;b&gt;(500 steps)&lt;/b&gt;" in page and "<b>(500" not in page


def test_it_refuses_an_over_long_reference_source(signed_in: Client) -> None:
    assert_rejected(post(signed_in, reference_source="x" * 301), "reference_source", "at most 300 characters")


def test_it_rejects_an_unknown_gym_id(signed_in: Client) -> None:
    assert_rejected(post(signed_in, gym_id="NoSuchEnv-v9"), "gym_id", "not a registered gymnasium environment")


def test_it_refuses_import_paths(signed_in: Client) -> None:
    assert_rejected(post(signed_in, gym_id="os:system"), "gym_id", "Import paths")


def test_it_rejects_kwargs_that_are_not_json(signed_in: Client) -> None:
    assert_rejected(post(signed_in, kwargs="{max_episode_steps: 10"), "kwargs", "Not valid JSON")


def test_it_rejects_kwargs_that_are_not_an_object(signed_in: Client) -> None:
    assert_rejected(post(signed_in, kwargs="[1, 2]"), "kwargs", "Must be a JSON object")


def test_it_rejects_kwargs_the_environment_refuses(signed_in: Client) -> None:
    assert_rejected(post(signed_in, kwargs='{"no_such_option": 1}'), "kwargs", "gymnasium could not build")


def test_it_rejects_oversized_kwargs(signed_in: Client) -> None:
    big = json.dumps({"x": "a" * 5000})
    assert_rejected(post(signed_in, kwargs=big), "kwargs", "at most 4096 characters")


@pytest.mark.parametrize("field", ["budget_steps", "eval_episodes", "min_seeds"])
@pytest.mark.parametrize("value", [0, -1])
def test_it_states_the_real_minimum_of_a_count(signed_in: Client, field: str, value: int) -> None:
    """A negative count was told "at least 0", which the form then refused too; the input's min agrees."""
    assert_rejected(post(signed_in, **{field: value}), field, "greater than or equal to 1")
    assert re.search(rf'<input type="number" name="{field}"[^>]* min="1"', signed_in.get(URL).content.decode())


def test_it_refuses_an_evaluation_seed_the_trainer_would_refuse_after_training(signed_in: Client) -> None:
    """Runs would have trained their whole budget and then failed at the evaluation (SQLite stores any integer)."""
    assert_rejected(post(signed_in, eval_seed=2**32), "eval_seed", "less than or equal to")
    assert post(signed_in, eval_seed=2**31 - 1).status_code == 302, "the largest PostgreSQL's column holds"


def test_a_slug_that_is_a_pages_address_is_refused(signed_in: Client) -> None:
    """/environments/new/ is the registration form: an environment called "new" could never be reached."""
    assert_rejected(post(signed_in, slug="new"), "slug", "is the address of a page here")


def test_the_largest_seed_here_is_the_trainers() -> None:
    from trainer.envs import MAX_SEED
    from web.catalog.models import MAX_EVAL_SEED

    assert MAX_EVAL_SEED == MAX_SEED


def test_it_sends_anonymous_visitors_to_the_login_page(client: Client, db: None) -> None:
    response = post(client)
    assert response.status_code == 302 and reverse("accounts:login") in response.url
    assert not Environment.objects.exists()


def test_it_lets_anyone_browse_environments(client: Client, tiny_env: Environment) -> None:
    assert tiny_env.slug in client.get(reverse("catalog:environments")).content.decode()
    assert client.get(tiny_env.get_absolute_url()).status_code == 200


def test_an_environment_with_runs_keeps_its_protocol_but_its_scale_and_text_stay_editable(user: User) -> None:
    from web.catalog.forms import EnvironmentForm
    from web.catalog.models import TrainerConfig
    from web.runs.models import Run

    env = Environment.objects.create(
        slug="cartpole-short", gym_id="CartPole-v1", budget_steps=10_000, eval_episodes=5, random_return=22.0,
        reference_return=500.0, min_seeds=3,
    )  # fmt: skip
    config = TrainerConfig.objects.create(name="cfg", params={"max_kl": 0.01})
    Run.objects.create(config=config, environment=env, seed=0, owner=user)
    fields = EnvironmentForm.Meta.fields
    data = {name: getattr(env, name) for name in fields} | {"kwargs": "{}", "description": "short"}

    form = EnvironmentForm(data=data | {"budget_steps": 20_000, "eval_episodes": 10}, instance=env)
    assert not form.is_valid()
    assert set(form.errors) == {"budget_steps", "eval_episodes"}, form.errors
    assert "1 run(s) trained and evaluated with budget_steps = 10000" in form.errors["budget_steps"][0]
    # Any other path is refused by the model itself, and the stored row stays as it was.
    env.budget_steps = 20_000
    with pytest.raises(EnvironmentLockedError, match="budget_steps"):
        env.save()
    env.refresh_from_db()
    assert env.budget_steps == 10_000

    form = EnvironmentForm(data=data | {"reference_return": 475.0, "min_seeds": 5, "description": "new"}, instance=env)
    assert form.is_valid(), form.errors
    form.save()
    env.refresh_from_db()
    assert (env.reference_return, env.min_seeds, env.description) == (475.0, 5, "new")


def test_an_environment_without_runs_may_change_its_protocol(db: None) -> None:
    from web.catalog.forms import EnvironmentForm

    env = Environment.objects.create(
        slug="cartpole-short", gym_id="CartPole-v1", budget_steps=10_000, random_return=22.0, reference_return=500.0
    )
    data = {name: getattr(env, name) for name in EnvironmentForm.Meta.fields} | {"kwargs": "{}"}
    form = EnvironmentForm(data=data | {"budget_steps": 20_000}, instance=env)
    assert form.is_valid(), form.errors
    assert form.save().budget_steps == 20_000


def test_the_admin_edits_an_environment_with_kwargs_and_runs_as_the_site_form_allows(
    client: Client, django_user_model
) -> None:
    from web.catalog.models import TrainerConfig
    from web.runs.models import Run

    admin = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client.force_login(admin)
    env = Environment.objects.create(
        slug="cartpole-short", gym_id="CartPole-v1", kwargs={"max_episode_steps": 200}, budget_steps=10_000,
        eval_episodes=5, random_return=22.0, reference_return=200.0, min_seeds=3,
    )  # fmt: skip
    url = reverse("admin:catalog_environment_change", args=[env.pk])
    page = client.get(url).content.decode()
    assert "{&quot;max_episode_steps&quot;: 200}" in page, "the stored kwargs are shown as JSON"
    Run.objects.create(
        config=TrainerConfig.objects.create(name="cfg", params={"max_kl": 0.01}), environment=env, seed=0, owner=admin
    )
    data = {
        "slug": env.slug, "gym_id": env.gym_id, "kwargs": json.dumps(env.kwargs), "budget_steps": 10_000,
        "eval_episodes": 5, "eval_seed": env.eval_seed, "deterministic_eval": "on", "random_return": 22.0,
        "reference_return": 195.0, "reference_source": "", "min_seeds": 3, "description": "",
    }  # fmt: skip
    refused = client.post(url, data | {"budget_steps": 20_000})
    assert refused.status_code == 200 and "trained and evaluated with budget_steps = 10000" in refused.content.decode()
    env.refresh_from_db()
    assert (env.budget_steps, env.reference_return) == (10_000, 200.0), "a refused edit changes nothing"
    assert client.post(url, data).status_code == 302
    env.refresh_from_db()
    assert (env.reference_return, env.kwargs) == (195.0, {"max_episode_steps": 200})


@pytest.mark.parametrize(
    ("random_return", "reference_return", "field", "fragment"),
    [
        (-1.7e308, 1.7e308, "random_return", "Must be between -1e+09 and 1e+09"),
        (0, 1e-320, "reference_return", "by at least 1e-06"),
        (22, 22, "reference_return", "by at least 1e-06"),
        # Boards rank higher returns first: below the random return the overall board would rank upside down.
        (0, -10, "reference_return", "Must be above the random return"),
    ],
)
def test_it_refuses_a_score_scale_that_breaks_normalisation(
    signed_in: Client, random_return: float, reference_return: float, field: str, fragment: str
) -> None:
    """Such a scale made every refresh of the overall board raise (found in review): refused, nothing saved."""
    response = post(signed_in, random_return=random_return, reference_return=reference_return)
    assert_rejected(response, field, fragment)


def test_a_registered_environment_is_off_the_overall_board_until_staff_include_it(
    signed_in: Client, client: Client, django_user_model
) -> None:
    post(signed_in, counts_overall="on")  # not a field of the site's form: ignored
    env = Environment.objects.get(slug="cartpole-short")
    assert not env.counts_overall
    assert "Not on the overall board" in signed_in.get(env.get_absolute_url()).content.decode()
    staff = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client.force_login(staff)
    url = reverse("admin:catalog_environment_change", args=[env.pk])
    data = {
        "slug": env.slug, "gym_id": env.gym_id, "kwargs": "{}", "budget_steps": env.budget_steps,
        "eval_episodes": env.eval_episodes, "eval_seed": env.eval_seed, "deterministic_eval": "on",
        "random_return": env.random_return, "reference_return": env.reference_return, "reference_source": "",
        "min_seeds": env.min_seeds, "description": env.description, "counts_overall": "on",
    }  # fmt: skip
    assert client.post(url, data).status_code == 302
    env.refresh_from_db()
    assert env.counts_overall
    assert "Counts on the overall board" in client.get(env.get_absolute_url()).content.decode()


def test_the_environment_list_is_by_slug(client: Client, db: None) -> None:
    for slug in ("zeta-env", "alpha-env", "mid-env"):
        Environment.objects.create(slug=slug, gym_id="CartPole-v1", budget_steps=1000, random_return=0.0,
                                   reference_return=1.0)  # fmt: skip
    html = client.get(reverse("catalog:environments")).content.decode()
    assert html.index("alpha-env") < html.index("mid-env") < html.index("zeta-env")


def test_the_admin_keeps_a_shipped_environments_slug(client: Client, django_user_model) -> None:
    """load_catalog finds shipped rows by slug: a shipped environment renamed in the admin came back at the next start
    as a second row of the same task, both counting on the overall board."""
    from web.catalog.loader import load_environments

    admin = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client.force_login(admin)
    load_environments()
    env = Environment.objects.get(slug="acrobot-v1")
    url = reverse("admin:catalog_environment_change", args=[env.pk])
    assert 'name="slug"' not in client.get(url).content.decode()
    data = {
        "slug": "acrobot", "gym_id": env.gym_id, "kwargs": json.dumps(env.kwargs), "budget_steps": env.budget_steps,
        "eval_episodes": env.eval_episodes, "eval_seed": env.eval_seed, "deterministic_eval": "on",
        "random_return": env.random_return, "reference_return": env.reference_return,
        "reference_source": env.reference_source, "min_seeds": env.min_seeds, "description": "edited",
        "counts_overall": "on",
    }  # fmt: skip
    assert client.post(url, data).status_code == 302
    env.refresh_from_db()
    assert (env.slug, env.description) == ("acrobot-v1", "edited")
    load_environments()
    assert Environment.objects.filter(gym_id="Acrobot-v1").count() == 1
    # A registered environment is still renamed as before.
    registered = Environment.objects.create(
        slug="mine", gym_id="CartPole-v1", budget_steps=1000, random_return=0.0, reference_return=1.0
    )
    page = client.get(reverse("admin:catalog_environment_change", args=[registered.pk])).content.decode()
    assert 'name="slug"' in page
