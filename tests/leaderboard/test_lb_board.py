"""The per-environment board page: ties, provisional flags, seeds, sorting, empty board, bounded queries."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse


def names_in_order(html: str) -> list[str]:
    return re.findall(r'/entries/\d+/">(\w+) v1</a>', html)


@pytest.mark.django_db
def test_it_shows_ties_provisional_entries_and_seeds(client, board) -> None:
    response = client.get(reverse("leaderboard:environment", args=["cartpole"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert names_in_order(html) == ["strong", "close", "default", "short"]
    assert html.count('class="badge lb-tie"') >= 2 and "provisional" in html
    # Seeds, and for a provisional entry how many it needs ("10/3" read like a fraction).
    assert '1 <span class="lb-coverage">of 3 needed</span>' in html and '<td class="opt">3</td>' in html
    assert 'data-lb-figure="fig-curves"' in html and 'id="fig-sensitivity"' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-score", ["short", "strong", "close", "default"]),
        ("score", ["default", "close", "strong", "short"]),
        ("config", ["close", "default", "short", "strong"]),
        ("seeds", ["short", "strong", "close", "default"]),
        ("-iqm", ["short", "strong", "close", "default"]),
        ("wall_clock", ["short", "strong", "close", "default"]),
        ("nonsense", ["strong", "close", "default", "short"]),
    ],
)
def test_it_sorts_by_any_column(client, board, sort: str, expected: list[str]) -> None:
    response = client.get(reverse("leaderboard:environment", args=["cartpole"]), {"sort": sort})
    assert names_in_order(response.content.decode()) == expected


@pytest.mark.django_db
def test_it_says_what_scores_1_and_where_it_comes_from_and_shows_an_edit_at_once(client, make_env) -> None:
    env = make_env(slug="sourced", random_return=22.0, reference_return=500.0, reference_source="a <i>run</i>")
    url = reverse("leaderboard:environment", args=["sourced"])
    html = client.get(url).content.decode()
    assert "500.0 is 1 (a &lt;i&gt;run&lt;/i&gt;)" in html and "<i>run" not in html
    env.reference_source = "the episode's maximum"
    env.save(update_fields=["reference_source"])
    assert "(the episode&#x27;s maximum)" in client.get(url).content.decode(), "a cached page hid the edit"


@pytest.mark.django_db
def test_it_shows_an_empty_board(client, make_env) -> None:
    make_env(slug="empty")
    response = client.get(reverse("leaderboard:environment", args=["empty"]))
    assert response.status_code == 200
    assert "No finished runs" in response.content.decode()


@pytest.mark.django_db
def test_it_answers_404_for_an_unknown_environment(client) -> None:
    assert client.get("/boards/nope/").status_code == 404


@pytest.mark.django_db
def test_it_runs_a_bounded_number_of_queries(client, board, make_config, make_runs,
                                             django_assert_max_num_queries) -> None:  # fmt: skip
    from leaderboard import services

    for i in range(15):
        cfg = make_config(name=f"extra{i}")
        make_runs(cfg, board["env"], [float(i), float(i + 1), float(i + 2)])
        services.refresh_entry(cfg.pk, board["env"].pk, overall=False)
    url = reverse("leaderboard:environment", args=["cartpole"])
    with django_assert_max_num_queries(5):
        client.get(url, {"sort": "-iqm"})
    with django_assert_max_num_queries(2):  # the rendered table is cached for this board version
        client.get(url, {"sort": "-iqm"})


@pytest.mark.django_db
def test_it_shows_a_new_result_after_a_refresh(client, board, make_config, make_runs) -> None:
    from leaderboard import services

    url = reverse("leaderboard:environment", args=["cartpole"])
    client.get(url)
    cfg = make_config(name="newcomer")
    make_runs(cfg, board["env"], [500.0, 510.0, 520.0])
    services.refresh_entry(cfg.pk, board["env"].pk)
    assert names_in_order(client.get(url).content.decode())[0] == "newcomer"


@pytest.mark.django_db
def test_a_board_whose_runs_recorded_no_update_says_so_instead_of_drawing_empty_curves(
    client, make_env, make_config, make_runs
) -> None:
    from leaderboard import services

    env = make_env(slug="silent", min_seeds=1)
    make_runs(make_config(name="quiet"), env, [50.0], curves=False)
    services.recompute_all()
    html = client.get(reverse("leaderboard:environment", args=["silent"])).content.decode()
    assert 'id="chart-curves"' not in html and 'id="chart-curves-empty"' in html
    assert "none of these entries' runs recorded an update" in html
    assert 'data-lb-figure="fig-scores"' in html and 'style="min-height: 420px"' in html
    entry = client.get(reverse("leaderboard:entry", args=["silent", env.lb_entries.get().config_id])).content.decode()
    assert 'id="charts-empty"' in entry and "data-lb-figure" not in entry
