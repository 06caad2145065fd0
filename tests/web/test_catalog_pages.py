"""Catalog pages: public, and a bounded number of queries however many rows they show."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from web_helpers import TINY_PARAMS

from web.catalog.models import Environment, TrainerConfig


def test_it_lists_configs_in_a_bounded_number_of_queries(
    client: Client, user: User, django_assert_max_num_queries: Any
) -> None:
    for i in range(10):
        TrainerConfig.objects.create(name=f"cfg-{i}", owner=user, params=TINY_PARAMS)
    with django_assert_max_num_queries(3):
        html = client.get(reverse("catalog:configs")).content.decode()
    assert html.count("cfg-") >= 10


def test_it_lists_environments_in_a_bounded_number_of_queries(
    client: Client, db: None, django_assert_max_num_queries: Any
) -> None:
    for i in range(10):
        Environment.objects.create(slug=f"env-{i}", gym_id="CartPole-v1", budget_steps=1000, random_return=0,
                                   reference_return=1)  # fmt: skip
    with django_assert_max_num_queries(3):
        html = client.get(reverse("catalog:environments")).content.decode()
    assert html.count("env-") >= 10


def test_it_shows_a_configs_full_json_and_its_versions(client: Client, user: User) -> None:
    v1 = TrainerConfig.objects.create(name="cfg", owner=user, params=TINY_PARAMS)
    v2 = TrainerConfig.objects.create(name="cfg", version=2, owner=user, params=TINY_PARAMS, parent=v1)
    html = client.get(v2.get_absolute_url()).content.decode()
    assert "&quot;n_steps&quot;: 256" in html and v1.get_absolute_url() in html
    listing = client.get(reverse("catalog:configs")).content.decode()
    assert listing.count("&quot;n_steps&quot;: 256") == 2, "the list shows every version's full JSON too"
