"""TRPO configs: the form is generated from the trainer and validated by it; used versions are frozen."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from web_helpers import config_form_data

from trainer import TRPOConfig, describe_fields
from web.catalog.models import ConfigLockedError, TrainerConfig
from web.runs.models import Run

URL = reverse("catalog:config_create")


@pytest.fixture
def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def assert_rejected(response: Any, field: str, fragment: str) -> None:
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert fragment in " ".join(errors[field]), errors[field]
    assert not TrainerConfig.objects.exists()


def test_it_shows_every_trainer_field_with_its_help_default_and_range(signed_in: Client) -> None:
    html = signed_in.get(URL).content.decode()
    for spec in describe_fields():
        assert f'name="{spec.name}"' in html
        assert spec.help.split("(")[0].strip()[:30] in html.replace("&#x27;", "'")
        if spec.range_text and not spec.choices:
            assert spec.range_text in html


def test_it_saves_the_trainers_own_dict(signed_in: Client, user: User) -> None:
    response = signed_in.post(URL, config_form_data(max_kl="0.02", hidden_sizes="32, 32"))
    config = TrainerConfig.objects.get(name="my-config")
    assert response.status_code == 302
    assert config.params == TRPOConfig(max_kl=0.02, hidden_sizes=(32, 32)).to_dict()
    assert (config.owner, config.version) == (user, 1)
    detail = signed_in.get(config.get_absolute_url()).content.decode()
    assert json.dumps(config.params, indent=2, sort_keys=True).replace('"', "&quot;") in detail


@pytest.mark.parametrize("typed", ["32 32", "32,32", " 32 ,  32 ", "32\t32"])
def test_layer_sizes_may_be_separated_by_spaces_and_never_run_together(signed_in: Client, typed: str) -> None:
    """``32 32`` was saved as one layer of 3,232 units."""
    assert signed_in.post(URL, config_form_data(hidden_sizes=typed)).status_code == 302
    assert TrainerConfig.objects.get(name="my-config").params["hidden_sizes"] == [32, 32]


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("max_kl", "0", "must be in (0, 1]"),
        ("max_kl", "-0.5", "must be in (0, 1]"),
        ("gamma", "1.5", "must be in (0, 1]"),
        ("n_steps", "4", "must be in [8, 100000]"),
        ("hidden_sizes", "64, 0", "must be in [1, 4096]"),
        ("hidden_sizes", "sixty-four", "whole numbers"),
        ("activation", "sigmoid", "Select a valid choice"),
    ],
)
def test_it_rejects_out_of_range_hyperparameters_on_their_field(
    signed_in: Client, field: str, value: str, fragment: str
) -> None:
    assert_rejected(signed_in.post(URL, config_form_data(**{field: value})), field, fragment)


def test_a_refused_form_lists_its_errors_at_the_top_with_links_to_the_fields(signed_in: Client) -> None:
    """The form is long: an error on a field near its end was below the fold after the page reloaded at the top."""
    html = signed_in.post(URL, config_form_data(n_steps="4", max_kl="5")).content.decode()
    summary = html.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert 'href="#id_n_steps"' in summary and 'href="#id_max_kl"' in summary
    assert html.index('id="error-summary"') < html.index('id="id_max_kl"')


def test_it_reports_cross_field_errors_from_the_trainer(signed_in: Client) -> None:
    response = signed_in.post(URL, config_form_data(n_steps="64", value_minibatch_size="128"))
    assert_rejected(response, "value_minibatch_size", "at most the batch size")


def test_it_refuses_a_taken_name(signed_in: Client, tiny_config: TrainerConfig) -> None:
    response = signed_in.post(URL, config_form_data(name=tiny_config.name))
    assert "name" in response.context["form"].errors
    assert TrainerConfig.objects.count() == 1


def test_it_edits_an_unused_version_in_place(signed_in: Client, tiny_config: TrainerConfig) -> None:
    url = reverse("catalog:config_edit", args=[tiny_config.pk])
    response = signed_in.post(url, config_form_data(name=None, max_kl="0.05", description="wider"))
    tiny_config.refresh_from_db()
    assert response.status_code == 302
    assert (tiny_config.params["max_kl"], tiny_config.version, TrainerConfig.objects.count()) == (0.05, 1, 1)


def test_it_makes_a_new_version_when_the_config_has_runs(signed_in: Client, make_run: Any) -> None:
    run = make_run()
    old = run.config
    before = dict(old.params)
    response = signed_in.post(reverse("catalog:config_edit", args=[old.pk]), config_form_data(max_kl="0.05"))
    old.refresh_from_db()
    new = TrainerConfig.objects.exclude(pk=old.pk).get()
    assert response.status_code == 302 and response.url == new.get_absolute_url()
    assert old.params == before
    assert (new.name, new.version, new.parent, new.params["max_kl"]) == (old.name, 2, old, 0.05)
    assert Run.objects.get().config == old


def test_the_same_edit_sent_twice_makes_one_new_version(signed_in: Client, make_run: Any) -> None:
    """A double click on Save, or a resubmitted form, on a used config: one v2, not a v2 and an identical v3."""
    old = make_run().config
    url = reverse("catalog:config_edit", args=[old.pk])
    first = signed_in.post(url, config_form_data(max_kl="0.05", description="wider"))
    second = signed_in.post(url, config_form_data(max_kl="0.05", description="wider"))
    new = TrainerConfig.objects.exclude(pk=old.pk).get()
    assert first.url == second.url == new.get_absolute_url() and new.version == 2
    other = signed_in.post(url, config_form_data(max_kl="0.06", description="wider"))  # another edit: v3
    assert TrainerConfig.objects.filter(name=old.name).count() == 3 and other.url != new.get_absolute_url()


def test_it_lets_only_the_owner_edit(client: Client, other_user: User, tiny_config: TrainerConfig) -> None:
    client.force_login(other_user)
    url = reverse("catalog:config_edit", args=[tiny_config.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, config_form_data(max_kl="0.5")).status_code == 404
    tiny_config.refresh_from_db()
    assert tiny_config.params["max_kl"] == 0.01


def test_it_sends_anonymous_visitors_to_the_login_page(client: Client, db: None) -> None:
    response = client.post(URL, config_form_data())
    assert response.status_code == 302 and reverse("accounts:login") in response.url
    assert not TrainerConfig.objects.exists()


def test_it_refuses_to_change_a_used_version_even_outside_the_form(make_run: Any) -> None:
    config = make_run().config
    config.params = {**config.params, "max_kl": 0.5}
    with pytest.raises(ConfigLockedError):
        config.save()
    config.refresh_from_db()
    assert config.params["max_kl"] == 0.01


def test_the_admin_validates_params_and_refuses_changing_a_used_version(
    client: Client, django_user_model: Any, tiny_env: Any
) -> None:
    """The admin's config form holds to the site's rules: a 200 with the reason, never a 500 or unchecked params."""
    staff = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client.force_login(staff)
    config = TrainerConfig.objects.create(name="cfg", owner=staff, params=TRPOConfig().to_dict())
    url = reverse("admin:catalog_trainerconfig_change", args=[config.pk])

    def post(params: dict[str, Any]) -> Any:
        data = {"name": "cfg", "version": 1, "owner": staff.pk, "params": json.dumps(params), "description": ""}
        return client.post(url, data)

    refused = post({"max_kl": 7})
    assert refused.status_code == 200 and "max_kl" in refused.content.decode()
    assert post({"max_kl": 0.02}).status_code == 302
    config.refresh_from_db()
    assert config.params == TRPOConfig(max_kl=0.02).to_dict(), "stored as the trainer's full dict"
    Run.objects.create(config=config, environment=tiny_env, seed=0, owner=staff)
    locked = post({"max_kl": 0.03})
    assert locked.status_code == 200 and "has runs" in locked.content.decode()
    config.refresh_from_db()
    assert config.params["max_kl"] == 0.02
    # A used version stored by an older trainer (a field missing) still saves its other fields untouched.
    older = {k: v for k, v in config.params.items() if k != "use_sde"}
    TrainerConfig.objects.filter(pk=config.pk).update(params=older)
    data = {"name": "cfg", "version": 1, "owner": staff.pk, "params": json.dumps(older), "description": "noted"}
    assert client.post(url, data).status_code == 302
    config.refresh_from_db()
    assert (config.params, config.description) == (older, "noted")


def test_a_minibatch_above_the_default_batch_is_fine_when_the_configs_own_batch_holds_it(signed_in: Client) -> None:
    """Each field is checked alone for its own range only: against the other fields' defaults (a batch of 2,048),
    a minibatch of 4,096 was refused although this config's batch is 4,096 (found in review)."""
    response = signed_in.post(URL, config_form_data(name="big-batch", n_steps="4096", value_minibatch_size="4096"))
    assert response.status_code == 302, response.context["form"].errors
    assert TrainerConfig.objects.get(name="big-batch").params["value_minibatch_size"] == 4096
    refused = signed_in.post(URL, config_form_data(name="too-big", n_steps="1024", value_minibatch_size="4096"))
    assert "at most the batch size" in " ".join(refused.context["form"].errors["value_minibatch_size"])
    assert not TrainerConfig.objects.filter(name="too-big").exists()


def test_the_trainer_fields_come_in_sections_and_a_folded_one_opens_on_an_error(signed_in: Client) -> None:
    from web.catalog.forms import CONFIG_SECTIONS

    placed = [name for _, _, names in CONFIG_SECTIONS for name in names]
    assert sorted(placed) == sorted(spec.name for spec in describe_fields()), "every trainer field has a section"
    html = signed_in.get(URL).content.decode()
    assert '<details class="form-section" open><summary>Trust region</summary>' in html
    assert '<details class="form-section"><summary>System</summary>' in html
    refused = signed_in.post(URL, config_form_data(torch_threads="-1")).content.decode()
    assert '<details class="form-section" open><summary>System</summary>' in refused


def test_the_config_list_is_by_name_then_newest_version_first(client: Client, db: None) -> None:
    """Django leaves Meta.ordering out of the list's grouped (run-counting) query: the order must be explicit."""
    params = TRPOConfig().to_dict()
    for name, version in (("b-config", 1), ("a-config", 1), ("a-config", 2), ("a-config", 3)):
        TrainerConfig.objects.create(name=name, version=version, params=params)
    html = client.get(reverse("catalog:configs")).content.decode()
    shown = [html.index(f"{name} v{version}") for name, version in
             (("a-config", 3), ("a-config", 2), ("a-config", 1), ("b-config", 1))]  # fmt: skip
    assert shown == sorted(shown)


def test_the_admin_keeps_a_used_versions_name_and_number(client: Client, django_user_model: Any, tiny_env) -> None:
    """A rename reached some cached pages and exports and not others: a version that runs use keeps its name."""
    staff = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client.force_login(staff)
    config = TrainerConfig.objects.create(name="cfg", owner=staff, params=TRPOConfig().to_dict())
    Run.objects.create(config=config, environment=tiny_env, seed=0, owner=staff)
    url = reverse("admin:catalog_trainerconfig_change", args=[config.pk])
    data = {"name": "renamed", "version": 7, "owner": staff.pk, "params": json.dumps(config.params),
            "description": "noted"}  # fmt: skip
    assert client.post(url, data).status_code == 302
    config.refresh_from_db()
    assert (config.name, config.version, config.description) == ("cfg", 1, "noted")


def test_the_admin_says_which_config_is_the_default_before_another_can_be(
    client: Client, django_user_model: Any
) -> None:
    """There is one default at a time: the admin said "Constraint “one_default_config” is violated."."""
    staff = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client.force_login(staff)
    params = TRPOConfig().to_dict()
    default = TrainerConfig.objects.create(name="trpo-default", params=params, is_default=True)
    other = TrainerConfig.objects.create(name="other", owner=staff, params=params)

    def save(config: TrainerConfig, is_default: bool) -> Any:
        data = {"name": config.name, "version": 1, "owner": config.owner_id or "", "params": json.dumps(params),
                "description": "", **({"is_default": "on"} if is_default else {})}  # fmt: skip
        return client.post(reverse("admin:catalog_trainerconfig_change", args=[config.pk]), data)

    refused = save(other, True)
    assert refused.status_code == 200
    assert "trpo-default v1 is the default config; untick “is default” on it first" in refused.content.decode()
    assert save(default, True).status_code == 302, "saving the default itself is no clash"
    assert save(default, False).status_code == 302 and save(other, True).status_code == 302
    assert list(TrainerConfig.objects.filter(is_default=True)) == [other]
