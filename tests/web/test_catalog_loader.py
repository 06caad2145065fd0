"""The shipped catalog, the default config and the demo account load idempotently."""

from __future__ import annotations

import dataclasses
import io

from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from trainer import TRPOConfig
from web.catalog.models import Environment, TrainerConfig
from web.catalog.shipped import SHIPPED
from web.numbers import ret

REQUIRED = [
    "CartPole-v1", "Acrobot-v1", "Pendulum-v1", "MountainCarContinuous-v0",
    "Hopper-v5", "HalfCheetah-v5", "Walker2d-v5", "Swimmer-v5", "InvertedPendulum-v5",
]  # fmt: skip


def test_it_loads_the_catalog_default_config_and_demo_account_idempotently(db: None) -> None:
    call_command("load_catalog", "--demo-password", "demo-pass-123")
    second = io.StringIO()
    call_command("load_catalog", "--demo-password", "demo-pass-123", stdout=second)
    assert "kept local edits" not in second.getvalue(), "the values it wrote read back as unedited"
    assert sorted(Environment.objects.values_list("gym_id", flat=True)) == sorted(e.gym_id for e in SHIPPED)
    assert set(REQUIRED) <= set(Environment.objects.values_list("gym_id", flat=True)), "the catalog users expect"
    assert not Environment.objects.filter(counts_overall=False).exists(), "shipped ones count on the overall board"
    hopper = Environment.objects.get(gym_id="Hopper-v5")
    assert (hopper.reference_return, hopper.action_space.startswith("Box")) == (3618.0, True)
    default = TrainerConfig.objects.get(is_default=True)
    assert default.params == TRPOConfig().to_dict() and TrainerConfig.objects.count() == 1
    assert authenticate(username="demo", password="demo-pass-123") is not None


def test_a_new_trainer_field_with_a_neutral_default_makes_no_new_default_version(db: None) -> None:
    before_the_field = {k: v for k, v in TRPOConfig().to_dict().items() if k not in ("use_sde", "sde_sample_freq")}
    old = TrainerConfig.objects.create(name="trpo-default", version=1, params=before_the_field, is_default=True)
    call_command("load_catalog")
    assert list(TrainerConfig.objects.values_list("pk", "is_default")) == [(old.pk, True)]
    # A default that did change is a new version, which becomes the default.
    TrainerConfig.objects.filter(pk=old.pk).update(params={**before_the_field, "max_kl": 0.05})
    call_command("load_catalog")
    newest = TrainerConfig.objects.get(is_default=True)
    assert (newest.version, newest.params, TrainerConfig.objects.count()) == (2, TRPOConfig().to_dict(), 2)


def test_every_shipped_environment_says_what_its_reference_return_is_and_where_it_comes_from(
    db: None, client: Client
) -> None:
    call_command("load_catalog")
    limit = Environment._meta.get_field("reference_source").max_length
    listing = client.get(reverse("catalog:environments")).content.decode()
    for item in SHIPPED:
        env = Environment.objects.get(slug=item.slug)
        assert item.reference_source and len(item.reference_source) <= limit, item.slug
        assert (env.reference_source, env.description) == (item.reference_source, item.description)
        page = client.get(env.get_absolute_url()).content.decode()
        assert escape(item.reference_source) in page and ret(item.reference_return) in page, item.slug
        assert escape(item.reference_source) in listing, f"the list of environments names {item.slug}'s source"
    walker = Environment.objects.get(gym_id="Walker2d-v5").reference_source
    assert "Walker2d-v3" in walker and "friction" in walker, "the reference's environment version differs: say so"


def test_it_moves_the_reference_source_out_of_a_description_the_old_loader_wrote(db: None) -> None:
    item = SHIPPED[0]
    old = f"{item.description} Reference return (score 1) {item.reference_return:g}: {item.reference_source}."
    Environment.objects.create(
        slug=item.slug, gym_id=item.gym_id, budget_steps=item.budget_steps, random_return=item.random_return,
        reference_return=item.reference_return, description=old,
    )  # fmt: skip
    call_command("load_catalog")
    env = Environment.objects.get(slug=item.slug)
    assert (env.description, env.reference_source) == (item.description, item.reference_source)


def test_it_keeps_an_admin_edit_of_a_shipped_environment_across_restarts_and_resets_it_on_request(db: None) -> None:
    call_command("load_catalog")
    item = next(i for i in SHIPPED if i.gym_id == "Hopper-v5")
    Environment.objects.filter(slug=item.slug).update(description="Our lab's notes.", reference_source="our lab")
    out = io.StringIO()
    call_command("load_catalog", stdout=out)  # the next start
    env = Environment.objects.get(slug=item.slug)
    assert (env.description, env.reference_source) == ("Our lab's notes.", "our lab"), "the edit survives a start"
    assert f"kept local edits of {item.slug}" in out.getvalue(), "and the loader says which it kept"
    untouched = Environment.objects.get(slug=SHIPPED[0].slug)
    assert untouched.description == SHIPPED[0].description
    call_command("load_catalog", "--reset-edits", stdout=io.StringIO())
    env.refresh_from_db()
    assert (env.description, env.reference_source) == (item.description, item.reference_source)


def test_an_unedited_shipped_environment_takes_the_new_shipped_values(db: None) -> None:
    call_command("load_catalog")
    item = SHIPPED[0]
    # As an older release would have left it: other shipped values, recorded as the values it wrote, and without a
    # field this release ships (a new catalog field is no edit).
    older = {**dataclasses.asdict(item), "reference_return": 450.0, "reference_source": "an older source"}
    del older["slug"], older["min_seeds"], older["counts_overall"]
    Environment.objects.filter(slug=item.slug).update(
        reference_return=450.0, reference_source="an older source", shipped_values=older, counts_overall=False
    )
    out = io.StringIO()
    call_command("load_catalog", stdout=out)
    env = Environment.objects.get(slug=item.slug)
    assert (env.reference_return, env.reference_source) == (item.reference_return, item.reference_source)
    assert env.counts_overall, "a shipped environment counts on the overall board"
    assert "kept local edits" not in out.getvalue()


def test_it_leaves_alone_an_environment_a_person_registered_under_a_shipped_slug(db: None, django_user_model) -> None:
    item = SHIPPED[0]
    owner = django_user_model.objects.create_user("lab", password="pw-lab-123")
    Environment.objects.create(
        slug=item.slug, gym_id=item.gym_id, budget_steps=50_000, random_return=0.0, reference_return=1.0,
        created_by=owner,
    )  # fmt: skip
    for args in ([], ["--reset-edits"]):
        out = io.StringIO()
        call_command("load_catalog", *args, stdout=out)
        env = Environment.objects.get(slug=item.slug)
        assert (env.budget_steps, env.created_by_id) == (50_000, owner.pk) and item.slug in out.getvalue()


def test_it_does_not_change_the_protocol_of_a_shipped_environment_that_has_runs(db: None, django_user_model) -> None:
    from web.runs.models import Run

    call_command("load_catalog")
    item = SHIPPED[0]
    # As an older release would have shipped it, with another budget and reference, and a run trained under it.
    older = {**dataclasses.asdict(item), "budget_steps": item.budget_steps // 2, "reference_return": 450.0}
    del older["slug"]
    Environment.objects.filter(slug=item.slug).update(
        budget_steps=item.budget_steps // 2, reference_return=450.0, shipped_values=older
    )
    owner = django_user_model.objects.create_user("lab", password="pw-lab-123")
    config = TrainerConfig.objects.get(is_default=True)
    Run.objects.create(config=config, environment=Environment.objects.get(slug=item.slug), seed=0, owner=owner)
    for args in ([], ["--reset-edits"], []):
        out = io.StringIO()
        call_command("load_catalog", *args, stdout=out)
        env = Environment.objects.get(slug=item.slug)
        assert env.budget_steps == item.budget_steps // 2, "the runs' budget stays"
        assert env.reference_return == item.reference_return, "the rest of the shipped values arrive"
        assert f"kept the protocol of {item.slug}" in out.getvalue() and "kept local edits" not in out.getvalue()
