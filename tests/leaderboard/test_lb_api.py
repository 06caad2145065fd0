"""The read-only JSON API: resources, pagination, filters, errors and bounded queries."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leaderboard import api

pytestmark = pytest.mark.django_db


def test_it_lists_the_endpoints(client) -> None:
    data = client.get("/api/").json()
    assert set(data) == {"environments", "configs", "runs", "leaderboards"}
    assert data["runs"].endswith("/api/runs/")


def test_it_paginates_runs(client, board) -> None:
    first = client.get("/api/runs/", {"page_size": 4}).json()
    assert first["count"] == 10 and first["num_pages"] == 3 and first["page"] == 1
    assert len(first["results"]) == 4 and first["previous"] is None
    assert "page=2" in first["next"] and "page_size=4" in first["next"]
    last = client.get("/api/runs/", {"page_size": 4, "page": 3}).json()
    assert len(last["results"]) == 2 and last["next"] is None
    ids = [r["id"] for p in (1, 2, 3) for r in client.get("/api/runs/", {"page_size": 4, "page": p}).json()["results"]]
    assert len(set(ids)) == 10


@pytest.mark.parametrize(
    ("params", "status"),
    [({"page_size": 0}, 400), ({"page_size": api.MAX_PAGE_SIZE + 1}, 400), ({"page": "x"}, 400),
     ({"page": 99}, 404), ({"status": "weird"}, 400), ({"config": "abc"}, 400)],
)  # fmt: skip
def test_it_rejects_bad_parameters(client, board, params, status) -> None:
    response = client.get("/api/runs/", params)
    assert response.status_code == status and "error" in response.json()


def test_it_filters_runs(client, board) -> None:
    data = client.get("/api/runs/", {"config": board["strong"].pk, "status": "succeeded"}).json()
    assert data["count"] == 3 and {r["config_id"] for r in data["results"]} == {board["strong"].pk}
    assert client.get("/api/runs/", {"environment": "nope"}).json()["count"] == 0


def test_it_shows_a_run_with_its_metrics(client, board) -> None:
    run = board["strong"].runs.order_by("seed").first()
    data = client.get(reverse("api:run", args=[run.pk])).json()
    assert data["environment"] == "cartpole" and data["seed"] == 0
    assert [m["update"] for m in data["metrics"]] == [0, 1, 2, 3]
    assert data["metrics"][-1]["metrics"]["rollout/ep_return_mean"] == pytest.approx(80.0)
    assert client.get(reverse("api:run", args=[999999])).status_code == 404
    assert data["metrics_next"] is None


def test_it_says_where_the_rest_of_a_long_runs_metrics_is(client, board, monkeypatch) -> None:
    """A run with more updates than one answer holds: the answer says so and links the rest, none lost or repeated."""
    monkeypatch.setattr(api, "MAX_RUN_UPDATES", 3)
    run = board["strong"].runs.order_by("seed").first()
    url = reverse("api:run", args=[run.pk])
    first = client.get(url).json()
    assert [m["update"] for m in first["metrics"]] == [0, 1, 2] and first["metrics_next"].endswith(f"{url}?after=2")
    rest = client.get(first["metrics_next"]).json()
    assert [m["update"] for m in rest["metrics"]] == [3] and rest["metrics_next"] is None
    for bad in ("x", "-1", "²", "1" * 20):
        response = client.get(url, {"after": bad})
        assert response.status_code == 400 and "after must be" in response.json()["error"]


def test_it_lists_environments_and_configs(client, board) -> None:
    envs = client.get("/api/environments/").json()
    assert envs["results"][0]["slug"] == "cartpole" and envs["results"][0]["min_seeds"] == 3
    board["env"].reference_source = "a published run"
    board["env"].save(update_fields=["reference_source"])
    cartpole = client.get("/api/environments/cartpole/").json()
    assert (cartpole["reference_return"], cartpole["reference_source"]) == (100.0, "a published run")
    assert cartpole["counts_overall"] is True  # the overall board can be recomputed from the API
    configs = client.get("/api/configs/").json()
    assert configs["count"] == 4
    detail = client.get(reverse("api:config", args=[board["default"].pk])).json()
    assert detail["is_default"] is True and detail["params"]["max_kl"] == 0.01
    assert client.get("/api/environments/nope/").status_code == 404


def test_it_serves_the_leaderboards(client, board) -> None:
    overall = client.get("/api/leaderboards/").json()
    assert overall["results"][0]["config"] == "strong v1"
    env = client.get("/api/leaderboards/cartpole/", {"page_size": 2}).json()
    assert env["count"] == 4 and [r["config"] for r in env["results"]] == ["strong v1", "close v1"]
    assert env["results"][0]["tied"] is True
    by_seeds = client.get("/api/leaderboards/cartpole/", {"sort": "seeds"}).json()
    assert by_seeds["results"][0]["provisional"] is True
    assert client.get("/api/leaderboards/nope/").status_code == 404


def test_it_serves_empty_lists(client) -> None:
    data = client.get("/api/leaderboards/").json()
    assert data == {"count": 0, "page": 1, "page_size": api.DEFAULT_PAGE_SIZE, "num_pages": 1,
                    "next": None, "previous": None, "results": []}  # fmt: skip


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_it_is_read_only(board, method) -> None:
    """With CSRF checks on, as in production (the test client skips them), a POST was Django's HTML 403."""
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    for url in ("/api/runs/", "/api/leaderboards/", "/api/leaderboards/cartpole/", "/api/"):
        assert getattr(strict, method)(url).status_code == 405, url


def test_a_runs_page_by_status_follows_a_status_change_at_once(client, board) -> None:
    """The count was cached per newest run id: a run changing status made none, and the stale count cut the page."""
    from web.runs.models import Run

    running = client.get("/api/runs/", {"status": "running"}).json()
    assert running["count"] == 0 and running["results"] == []
    moved = Run.objects.filter(config=board["strong"]).first()
    Run.objects.filter(pk=moved.pk).update(status="running")
    running = client.get("/api/runs/", {"status": "running"}).json()
    assert running["count"] == 1 and [r["id"] for r in running["results"]] == [moved.pk]
    succeeded = client.get("/api/runs/", {"status": "succeeded", "page_size": 200}).json()
    assert succeeded["count"] == len(succeeded["results"]) == 9


def test_non_finite_numbers_are_null_not_invalid_json(client, board) -> None:
    import json

    from web.runs.models import Run

    run = Run.objects.filter(config=board["strong"]).first()
    Run.objects.filter(pk=run.pk).update(final_return_mean=float("nan"), wall_clock_s=float("inf"))
    for url in (f"/api/runs/{run.pk}/", "/api/runs/"):
        text = client.get(url).content.decode()
        assert "NaN" not in text and "Infinity" not in text, url
        json.loads(text, parse_constant=lambda token, at=url: pytest.fail(f"{at}: {token} is not JSON"))
    detail = client.get(f"/api/runs/{run.pk}/").json()
    assert detail["final_return_mean"] is None and detail["wall_clock_s"] is None


@pytest.mark.parametrize("url", ["/api/runs/", "/api/configs/", "/api/environments/", "/api/leaderboards/",
                                 "/api/leaderboards/cartpole/"])  # fmt: skip
def test_it_runs_a_bounded_number_of_queries(client, board, make_config, make_runs, owner, url,
                                             django_assert_max_num_queries) -> None:  # fmt: skip
    for _ in range(5):
        make_runs(make_config(owner=owner), board["env"], [1.0, 2.0])
    with django_assert_max_num_queries(4):  # leaderboards: environment, board version, count, rows
        client.get(url)
    with django_assert_max_num_queries(3):  # leaderboards are then served from the cache
        client.get(url)


def test_only_canonical_board_queries_are_cached(client, board) -> None:
    """Keyed on the whole URL, ?junk=<random> stored a copy of the board per request in the shared cache."""
    from django.core.cache import cache

    def board_keys() -> int:
        return sum(1 for k in cache._cache if ":lb:api:" in k)  # LocMemCache in tests

    cache.clear()
    for i in range(5):
        assert client.get("/api/leaderboards/cartpole/", {"junk": str(i)}).status_code == 200
        assert client.get("/api/leaderboards/cartpole/", {"sort": f"x{i}"}).status_code == 200
        assert client.get("/api/leaderboards/cartpole/", {"sort": "-" * (i + 2) + "rank"}).status_code == 200
        assert client.get("/api/leaderboards/cartpole/", {"page": f"0{1}", "page_size": "2"}).status_code == 200
    assert board_keys() == 0
    a = client.get("/api/leaderboards/cartpole/", {"sort": "-seeds", "page_size": "2"}).json()
    b = client.get("/api/leaderboards/cartpole/", {"sort": "-seeds", "page_size": "2"}).json()
    assert a == b and board_keys() == 1
    # The same query spelled with percent-encoding or in another order is the same answer and the same key: keyed
    # on the raw query string, each spelling (billions of them) stored another copy.
    for query in ("sort=-s%65eds&page_size=2", "%73ort=-seeds&page_size=%32", "page_size=2&sort=-seeds",
                  "sort=%2Dseeds&page_size=2", "sort=%2dseeds&page_size=2"):  # fmt: skip
        response = client.get(f"/api/leaderboards/cartpole/?{query}")
        assert response.status_code == 200 and response.json()["results"] == a["results"], query
    assert board_keys() == 1
