"""The public runs list: every run, its filters, its pages and the queries it costs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from web_helpers import TINY_PARAMS

from web.catalog.models import Environment, TrainerConfig
from web.runs.models import Run
from web.runs.services import delete_run
from web.runs.views import RUNS_PER_PAGE

URL = reverse("runs:list")


def listed(html: str) -> list[int]:
    """The run ids the page's table shows, in order."""
    return [int(pk) for pk in re.findall(r'href="/runs/(\d+)/">#', html)]


@pytest.fixture
def pendulum(db: None) -> Environment:
    return Environment.objects.create(
        slug="pendulum-tiny", gym_id="Pendulum-v1", budget_steps=2048, eval_episodes=2, eval_seed=1000,
        random_return=-1200.0, reference_return=-200.0, min_seeds=1,
    )  # fmt: skip


@pytest.fixture
def tiny_v2(tiny_config: TrainerConfig, other_user: User) -> TrainerConfig:
    return TrainerConfig.objects.create(
        name="tiny", version=2, owner=other_user, params=TINY_PARAMS, parent=tiny_config
    )


def many_runs(n: int, environment: Environment, config: TrainerConfig, owner: User, **fields: Any) -> list[Run]:
    runs = [
        Run(config=config, environment=environment, seed=i, owner=owner, total_steps=2048, **fields) for i in range(n)
    ]
    return Run.objects.bulk_create(runs)


def test_it_lists_everyones_runs_newest_first_to_anonymous_visitors(
    client: Client, make_run: Callable[..., Run], other_user: User
) -> None:
    mine, theirs = make_run(seed=0), make_run(seed=1, owner=other_user, status="running", progress=0.5)
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert listed(html) == [theirs.pk, mine.pk]
    assert f'href="{URL}?owner=mallory"' in html and ">Running<" in html and ">50%<" in html
    assert 'id="run-filters"' in html and ">2 runs.<" in html


def test_it_filters_by_status_environment_config_and_owner_and_combines_them(
    client: Client, make_run: Callable[..., Run], other_user: User, pendulum: Environment, tiny_v2: TrainerConfig
) -> None:
    a = make_run(seed=0, status="succeeded")
    b = make_run(seed=1, status="failed", environment=pendulum)
    c = make_run(seed=2, status="succeeded", owner=other_user, config=tiny_v2)
    d = make_run(seed=3, status="succeeded", environment=pendulum, owner=other_user)
    cases = {
        "status=succeeded": [d, c, a],
        "environment=pendulum-tiny": [d, b],
        f"config={tiny_v2.pk}": [c],
        "owner=mallory": [d, c],
        "status=succeeded&environment=pendulum-tiny": [d],
        "status=succeeded&owner=alice": [a],
        "status=failed&environment=pendulum-tiny&owner=alice": [b],
        "status=cancelled": [],
        "owner=MALLORY": [d, c],  # usernames are unique whatever their case: this is mallory
        "owner=nobody": [],
    }
    assert ">1 run matches these filters.<" in client.get(f"{URL}?config={tiny_v2.pk}").content.decode()
    for query, expected in cases.items():
        html = client.get(f"{URL}?{query}").content.decode()
        assert listed(html) == [run.pk for run in expected], query
    assert "No runs match these filters." in html


def test_it_finds_a_config_by_id_by_name_or_by_name_and_version(
    client: Client, make_run: Callable[..., Run], tiny_config: TrainerConfig, tiny_v2: TrainerConfig
) -> None:
    v1, v2 = make_run(seed=0), make_run(seed=1, config=tiny_v2)
    for value, expected in [(tiny_config.pk, [v1]), ("tiny", [v2, v1]), ("tiny v2", [v2]), (" tiny v1 ", [v1])]:
        assert listed(client.get(URL, {"config": value}).content.decode()) == [r.pk for r in expected], value


def test_it_finds_a_config_whose_name_is_not_a_slug(
    client: Client, make_run: Callable[..., Run], tiny_config: TrainerConfig
) -> None:
    """Names are free text in the model (the admin saves any): such a name was refused as malformed (400)."""
    odd = TrainerConfig.objects.create(name="my.cfg (old) v2", version=1, params=TINY_PARAMS)
    run, _other = make_run(seed=0, config=odd), make_run(seed=1)
    for value in ("my.cfg (old) v2", "my.cfg (old) v2 v1", "tiny; drop table"):
        response = client.get(URL, {"config": value})
        assert response.status_code == 200, value
        assert listed(response.content.decode()) == ([] if "drop" in value else [run.pk]), value


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"status": "exploded"}, "No status exploded"),
        ({"environment": "no-such-env"}, "No environment no-such-env"),
        ({"environment": "cartpole-tiny\x00"}, "No environment"),
        ({"config": "x" * 101}, "at most 100 characters"),
        ({"config": "tiny\x00"}, "Null characters are not allowed"),
        ({"owner": "bad name!"}, "Enter a valid username"),
        ({"owner": "alice", "status": "nope", "page": "²"}, "No status nope"),
    ],
)
def test_it_refuses_bad_filter_values_with_a_message_and_lists_no_runs(
    client: Client, make_run: Callable[..., Run], query: dict[str, str], message: str
) -> None:
    make_run()
    response = client.get(URL, query)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html and 'id="error-summary"' in html and 'id="filters-refused"' in html
    assert listed(html) == []


def test_the_pager_keeps_the_filters(
    client: Client, tiny_env: Environment, tiny_config: TrainerConfig, user: User, pendulum: Environment
) -> None:
    failed = many_runs(RUNS_PER_PAGE + 5, tiny_env, tiny_config, user, status="failed")
    many_runs(RUNS_PER_PAGE, pendulum, tiny_config, user, status="failed")
    html = client.get(URL, {"status": "failed", "environment": tiny_env.slug}).content.decode()
    assert "page 1 of 2" in html
    assert 'href="?status=failed&amp;environment=cartpole-tiny&amp;page=2"' in html
    page_2 = client.get(f"{URL}?status=failed&environment=cartpole-tiny&page=2").content.decode()
    assert sorted(listed(page_2)) == sorted(run.pk for run in failed[:5])
    assert 'href="?status=failed&amp;environment=cartpole-tiny&amp;page=1"' in page_2


@pytest.mark.parametrize(("page", "shown"), [("999", 2), ("0", 2), ("abc", 1), ("²", 1), ("9" * 5000, 1)])
def test_it_clamps_page_numbers_as_my_runs_does(
    client: Client, tiny_env: Environment, tiny_config: TrainerConfig, user: User, page: str, shown: int
) -> None:
    many_runs(RUNS_PER_PAGE + 1, tiny_env, tiny_config, user)
    response = client.get(URL, {"page": page})
    assert response.status_code == 200 and f"page {shown} of 2" in response.content.decode()


def test_it_does_not_list_deleted_runs(client: Client, make_run: Callable[..., Run]) -> None:
    kept, deleted = make_run(seed=0, status="succeeded"), make_run(seed=1, status="succeeded")
    assert listed(client.get(URL).content.decode()) == [deleted.pk, kept.pk]
    delete_run(deleted)
    assert listed(client.get(URL).content.decode()) == [kept.pk]


def test_it_shows_live_statuses_to_anonymous_visitors_rather_than_a_cached_page(
    client: Client, make_run: Callable[..., Run]
) -> None:
    run = make_run()
    assert ">Queued<" in client.get(URL).content.decode()
    Run.objects.filter(pk=run.pk).update(status="running", progress=0.25)
    html = client.get(URL).content.decode()
    assert ">Running<" in html and ">25%<" in html


def test_it_runs_the_same_number_of_queries_for_3_runs_or_120(
    client: Client, user: User, make_run: Callable[..., Run], pendulum: Environment, tiny_config: TrainerConfig
) -> None:
    def queries(query: dict[str, str]) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, query).status_code == 200
        return len(captured)

    for seed in range(3):
        make_run(seed=seed)
    filters = {"status": "queued", "config": "tiny", "owner": user.username}
    few = [queries({}), queries(filters)]
    # Each run with its own owner and config, so a query per row would show.
    for i in range(117):
        owner = User.objects.create_user(f"user{i}")
        config = TrainerConfig.objects.create(name="tiny", version=10 + i, owner=owner, params=TINY_PARAMS)
        make_run(seed=10 + i, owner=owner, config=config, environment=pendulum)
    client.force_login(user)
    signed_in = queries({})
    client.logout()
    assert [queries({}), queries(filters)] == few == [3, 3]  # environments for the form, count, page
    assert signed_in <= few[0] + 2  # the session and the user
