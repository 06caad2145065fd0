"""The home page: the overall board, its performance profile, and each environment's leader."""

from __future__ import annotations

import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_it_shows_the_overall_board(client, board) -> None:
    response = client.get(reverse("leaderboard:home"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("strong v1") < html.index("default v1")
    assert 'id="fig-profile"' in html
    assert reverse("leaderboard:environment", args=["cartpole"]) in html


@pytest.mark.django_db
def test_it_shows_an_empty_site(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert "No confirmed entries yet" in response.content.decode()
    assert 'id="fig-profile"' not in response.content.decode()


@pytest.mark.django_db
def test_it_runs_a_bounded_number_of_queries(client, board, make_env, make_config, make_runs,
                                             django_assert_max_num_queries) -> None:  # fmt: skip
    from leaderboard import services

    for _i in range(5):
        env = make_env()
        make_runs(board["strong"], env, [1.0, 2.0, 3.0])
        make_runs(make_config(), env, [1.0, 2.0, 3.0])
    services.recompute_all()
    with django_assert_max_num_queries(7):
        client.get("/", {"sort": "-poi"})
    with django_assert_max_num_queries(2):  # the rendered board is cached for this version
        client.get("/", {"sort": "-poi"})
