"""CSV and JSON exports of the environment boards and the overall board."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_it_exports_an_environment_board_as_csv(client, board) -> None:
    response = client.get(reverse("leaderboard:environment_export", args=["cartpole", "csv"]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["config"] for r in rows] == ["strong v1", "close v1", "default v1", "short v1"]
    assert rows[0]["rank"] == "1" and rows[0]["tied"] == "True" and rows[3]["provisional"] == "True"
    assert float(rows[0]["score_mean"]) == pytest.approx(90.0)


@pytest.mark.django_db
def test_it_exports_an_environment_board_as_json(client, board) -> None:
    data = client.get(reverse("leaderboard:environment_export", args=["cartpole", "json"])).json()
    assert data["environment"] == "cartpole" and data["min_seeds"] == 3
    assert [e["config"] for e in data["entries"]][:2] == ["strong v1", "close v1"]
    assert data["entries"][3]["rank"] is None


@pytest.mark.django_db
def test_a_json_export_says_how_to_read_its_scores_and_follows_an_edit_of_the_environment(client, board) -> None:
    env = board["env"]
    url = reverse("leaderboard:environment_export", args=["cartpole", "json"])
    data = client.get(url).json()
    scale = {k: data[k] for k in ("random_return", "reference_return", "reference_source", "eval_episodes")}
    assert scale == {"random_return": env.random_return, "reference_return": env.reference_return,
                     "reference_source": env.reference_source, "eval_episodes": env.eval_episodes}  # fmt: skip
    assert (data["gym_id"], data["kwargs"], data["budget_steps"]) == (env.gym_id, env.kwargs, env.budget_steps)
    # An admin's edit changes no run, so the board's version stays; the cached export must not.
    type(env).objects.filter(pk=env.pk).update(reference_source="the episode's maximum")
    assert client.get(url).json()["reference_source"] == "the episode's maximum"
    # Whether the environment counts on the overall board: without it the overall board cannot be recomputed.
    assert data["counts_overall"] is True
    type(env).objects.filter(pk=env.pk).update(counts_overall=False)
    assert client.get(url).json()["counts_overall"] is False


@pytest.mark.django_db
def test_it_exports_the_overall_board(client, board) -> None:
    data = client.get(reverse("leaderboard:overall_export", args=["json"])).json()
    assert data["entries"][0]["config"] == "strong v1"
    assert data["entries"][0]["poi"] == pytest.approx(1.0)
    text = client.get(reverse("leaderboard:overall_export", args=["csv"])).content.decode()
    assert text.splitlines()[0].startswith("rank,tied,provisional,config_id,config,iqm")


@pytest.mark.django_db
def test_it_exports_empty_boards(client, make_env) -> None:
    make_env(slug="empty")
    assert client.get("/boards/empty/export.json").json()["entries"] == []
    assert client.get("/boards/overall.csv").content.decode().count("\n") == 1


@pytest.mark.django_db
def test_it_refuses_unknown_formats(client, board) -> None:
    assert client.get("/boards/cartpole/export.xml").status_code == 404


@pytest.mark.django_db
def test_it_exports_the_new_board_after_a_refresh(client, board, make_config, make_runs) -> None:
    from leaderboard import services

    url = reverse("leaderboard:environment_export", args=["cartpole", "json"])
    assert client.get(url).json()["entries"][0]["config"] == "strong v1"
    cfg = make_config(name="newcomer")
    make_runs(cfg, board["env"], [500.0, 510.0, 520.0])
    services.refresh_entry(cfg.pk, board["env"].pk)
    assert client.get(url).json()["entries"][0]["config"] == "newcomer v1"
    assert client.get("/api/leaderboards/cartpole/").json()["results"][0]["config"] == "newcomer v1"


@pytest.mark.django_db
def test_exports_run_a_bounded_number_of_queries_whatever_the_board_size(client, board, make_config, make_runs) -> None:
    from leaderboard import services

    def count_queries() -> dict[str, int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        counts = {}
        for kind, url in [
            ("env csv", reverse("leaderboard:environment_export", args=["cartpole", "csv"])),
            ("env json", reverse("leaderboard:environment_export", args=["cartpole", "json"])),
            ("overall csv", reverse("leaderboard:overall_export", args=["csv"])),
            ("overall json", reverse("leaderboard:overall_export", args=["json"])),
        ]:
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url).status_code == 200
            counts[kind] = len(ctx.captured_queries)
        return counts

    small = count_queries()
    for i in range(12):
        cfg = make_config(name=f"more{i}")
        make_runs(cfg, board["env"], [float(i), float(i + 1), float(i + 2)])
        services.refresh_entry(cfg.pk, board["env"].pk, overall=False)
    services.refresh_overall()
    from django.core.cache import cache

    cache.clear()
    large = count_queries()
    assert all(n <= 4 for n in large.values()), large
    assert all(large[k] <= small[k] for k in small), (small, large)  # no query per entry


def test_a_csv_export_writes_formula_like_names_as_text(client, make_env, make_config, make_runs) -> None:
    """A name a spreadsheet would run as a formula (CSV injection) gets a leading apostrophe; numbers stay numbers."""
    from leaderboard import services

    env = make_env(slug="neg", random_return=-500.0, reference_return=-100.0, min_seeds=1)
    evil = make_config(name="=HYPERLINK(x)")
    make_runs(evil, env, [-300.0])
    services.recompute_all()
    response = client.get(reverse("leaderboard:environment_export", args=["neg", "csv"]))
    (row,) = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert row["config"] == "'=HYPERLINK(x) v1"
    assert row["score_mean"] == "-300.0", "a negative number is no formula"
