"""The config and environment lists with hundreds of rows: search, pages, filters kept in pager links, bad input."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from web_helpers import TINY_PARAMS

from web.catalog.listing import MAX_SEARCH_CHARS, PER_PAGE
from web.catalog.models import Environment, TrainerConfig
from web.catalog.shipped import DEFAULT_CONFIG_NAME

CONFIGS = reverse("catalog:configs")
ENVIRONMENTS = reverse("catalog:environments")
BAD_PAGES = ["abc", "0", "-1", "²", "1.5", "9" * 5000, "\x00"]
BAD_SEARCHES = ["x" * 10_000, "a\x00b", "%", "_", "' OR 1=1 --", "<script>alert(1)</script>", "\u202e", "𝟗"]


def make_configs(owner: User | None, prefix: str, n: int) -> None:
    TrainerConfig.objects.bulk_create(
        TrainerConfig(name=f"{prefix}-{i:03d}", owner=owner, params=TINY_PARAMS) for i in range(n)
    )


def make_environments(prefix: str, n: int, gym_id: str = "CartPole-v1") -> None:
    Environment.objects.bulk_create(
        Environment(slug=f"{prefix}-{i:03d}", gym_id=gym_id, budget_steps=1000, random_return=0, reference_return=1)
        for i in range(n)
    )


def shown_configs(html: str) -> list[str]:
    return re.findall(r'<a href="/configs/\d+/">([^<]+)</a>', html)


def shown_environments(html: str) -> list[str]:
    return re.findall(r'<a href="/environments/[^/]+/">([^<]+)</a>', html)


def test_it_finds_configs_by_name_or_owner_ignoring_case(client: Client, user: User, other_user: User) -> None:
    TrainerConfig.objects.create(name="Fast-CartPole", owner=user, params=TINY_PARAMS)
    TrainerConfig.objects.create(name="slow", owner=other_user, params=TINY_PARAMS)
    TrainerConfig.objects.create(name=DEFAULT_CONFIG_NAME, params=TINY_PARAMS, is_default=True)
    assert shown_configs(client.get(CONFIGS, {"q": "fast-cart"}).content.decode()) == ["Fast-CartPole v1"]
    assert shown_configs(client.get(CONFIGS, {"q": "MALL"}).content.decode()) == ["slow v1"]  # mallory's
    assert shown_configs(client.get(CONFIGS, {"q": "  alice "}).content.decode()) == ["Fast-CartPole v1"]
    assert shown_configs(client.get(CONFIGS, {"q": "no such thing"}).content.decode()) == []
    assert len(shown_configs(client.get(CONFIGS, {"q": ""}).content.decode())) == 3


def test_it_treats_like_wildcards_in_the_search_as_plain_characters(client: Client, user: User) -> None:
    for name in ("a_b", "axb", "100%", "1000"):
        TrainerConfig.objects.create(name=name, owner=user, params=TINY_PARAMS)
    assert shown_configs(client.get(CONFIGS, {"q": "_"}).content.decode()) == ["a_b v1"]
    assert shown_configs(client.get(CONFIGS, {"q": "%"}).content.decode()) == ["100% v1"]


def test_it_says_whose_each_config_is(client: Client, user: User) -> None:
    TrainerConfig.objects.create(name=DEFAULT_CONFIG_NAME, params=TINY_PARAMS, is_default=True)
    TrainerConfig.objects.create(name="orphan", params=TINY_PARAMS)  # its account was deleted
    TrainerConfig.objects.create(name="mine", owner=user, params=TINY_PARAMS)
    html = client.get(CONFIGS).content.decode()
    row = {
        name: html[html.index(f">{name} v1<") :].split("</tr>")[0] for name in (DEFAULT_CONFIG_NAME, "orphan", "mine")
    }
    assert '<span class="badge">shipped</span>' in row[DEFAULT_CONFIG_NAME]
    assert '<span class="badge">no owner</span>' in row["orphan"]
    assert "<td>alice</td>" in row["mine"]


def test_it_lists_only_my_configs_when_asked(client: Client, user: User, other_user: User) -> None:
    TrainerConfig.objects.create(name="hers", owner=other_user, params=TINY_PARAMS)
    TrainerConfig.objects.create(name="my-a", owner=user, params=TINY_PARAMS)
    TrainerConfig.objects.create(name="my-b", owner=user, params=TINY_PARAMS)
    assert len(shown_configs(client.get(CONFIGS, {"mine": "1"}).content.decode())) == 3, "anonymous: no filter"
    client.force_login(user)
    assert shown_configs(client.get(CONFIGS, {"mine": "1"}).content.decode()) == ["my-a v1", "my-b v1"]
    assert shown_configs(client.get(CONFIGS, {"mine": "1", "q": "b"}).content.decode()) == ["my-b v1"]


def test_it_pages_the_config_list_and_keeps_the_filters_in_the_pager_links(client: Client, user: User) -> None:
    make_configs(user, "cfg", PER_PAGE + 5)
    make_configs(user, "other", 3)
    client.force_login(user)
    first = client.get(CONFIGS, {"q": "cfg", "mine": "1"}).content.decode()
    assert shown_configs(first) == [f"cfg-{i:03d} v1" for i in range(PER_PAGE)]
    assert "page 1 of 2" in first and '<a href="?q=cfg&amp;mine=1&amp;page=2" rel="next">next →</a>' in first
    second = client.get(CONFIGS, {"q": "cfg", "mine": "1", "page": "2"}).content.decode()
    assert shown_configs(second) == [f"cfg-{i:03d} v1" for i in range(PER_PAGE, PER_PAGE + 5)]
    assert '<a href="?q=cfg&amp;mine=1&amp;page=1" rel="prev">← previous</a>' in second


def test_it_escapes_the_search_in_the_pager_links(client: Client, user: User) -> None:
    make_configs(user, "a&b c", PER_PAGE + 1)
    html = client.get(CONFIGS, {"q": "a&b c"}).content.decode()
    assert '<a href="?q=a%26b+c&amp;page=2" rel="next">next →</a>' in html


@pytest.mark.parametrize("page", BAD_PAGES)
def test_it_shows_the_first_page_for_a_page_that_is_not_a_number(client: Client, user: User, page: str) -> None:
    make_configs(user, "cfg", PER_PAGE + 1)
    response = client.get(CONFIGS, {"page": page})
    assert response.status_code == 200
    shown = shown_configs(response.content.decode())
    # "0" and "-1" are numbers before the first page: clamped to the last one, as Paginator.get_page does.
    assert shown[0] == ("cfg-050 v1" if page in ("0", "-1") else "cfg-000 v1")


def test_it_clamps_a_page_past_the_end_to_the_last_page(client: Client, user: User) -> None:
    make_configs(user, "cfg", PER_PAGE + 1)
    html = client.get(CONFIGS, {"page": "999"}).content.decode()
    assert shown_configs(html) == ["cfg-050 v1"] and "page 2 of 2" in html


@pytest.mark.parametrize("q", BAD_SEARCHES)
def test_it_answers_odd_search_text_with_an_ordinary_page(client: Client, user: User, q: str) -> None:
    TrainerConfig.objects.create(name="ab", owner=user, params=TINY_PARAMS)
    Environment.objects.create(slug="ab", gym_id="CartPole-v1", budget_steps=1000, random_return=0, reference_return=1)
    for url in (CONFIGS, ENVIRONMENTS):
        response = client.get(url, {"q": q, "page": "abc"})
        assert response.status_code == 200, url
        html = response.content.decode()
        assert "<script>alert" not in html
        assert len(response.context["q"]) <= MAX_SEARCH_CHARS


def test_it_drops_nul_from_the_search(client: Client, user: User) -> None:
    """PostgreSQL refuses NUL in a string literal: passed on, it was a 500."""
    TrainerConfig.objects.create(name="ab", owner=user, params=TINY_PARAMS)
    assert shown_configs(client.get(CONFIGS, {"q": "a\x00b"}).content.decode()) == ["ab v1"]


def test_it_lists_a_page_of_configs_in_the_same_queries_however_many_match(client: Client, user: User) -> None:
    def queries(n: int) -> int:
        TrainerConfig.objects.all().delete()
        make_configs(user, "cfg", n)
        make_configs(None, "shipped", n)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(CONFIGS, {"q": "cfg", "mine": "1", "page": "2"}).status_code == 200
        return len(ctx.captured_queries)

    client.force_login(user)
    few, many = queries(PER_PAGE + 1), queries(4 * PER_PAGE)
    assert few == many <= 4, "session, user, the count and the page"


def test_it_finds_environments_by_slug_or_gym_id(client: Client, db: None) -> None:
    make_environments("cartpole-long", 2)
    make_environments("swing", 1, gym_id="Pendulum-v1")
    assert shown_environments(client.get(ENVIRONMENTS, {"q": "LONG"}).content.decode()) == [
        "cartpole-long-000", "cartpole-long-001",
    ]  # fmt: skip
    assert shown_environments(client.get(ENVIRONMENTS, {"q": "pendulum"}).content.decode()) == ["swing-000"]
    assert "No environment matches." in client.get(ENVIRONMENTS, {"q": "nothing"}).content.decode()


def test_it_pages_the_environment_list_and_keeps_the_search(
    client: Client, db: None, django_assert_max_num_queries: object
) -> None:
    make_environments("env", 2 * PER_PAGE + 1)
    make_environments("zzz", 1)
    with django_assert_max_num_queries(2):  # type: ignore[operator]
        first = client.get(ENVIRONMENTS, {"q": "env"}).content.decode()
    assert len(shown_environments(first)) == PER_PAGE and '<a href="?q=env&amp;page=2" rel="next">next →</a>' in first
    last = client.get(ENVIRONMENTS, {"q": "env", "page": "50"}).content.decode()
    assert shown_environments(last) == [f"env-{2 * PER_PAGE:03d}"] and "page 3 of 3" in last
    assert '<a href="?q=env&amp;page=2" rel="prev">← previous</a>' in last
