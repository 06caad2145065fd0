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


@pytest.mark.django_db
def test_any_page_number_past_the_last_shares_the_last_pages_cache_entry(client, board) -> None:
    """The key held the raw ?page= (any number up to 10^6) while the paginator showed the last page: every number
    stored one more copy of it in the shared cache, on the home page and on every board."""
    from django.core.cache import cache

    def keys(prefix: str) -> int:
        return sum(1 for k in cache._cache if f":{prefix}:" in k)  # LocMemCache in tests

    cache.clear()
    client.get("/")
    client.get("/boards/cartpole/")
    one_page = (keys("lb:home"), keys("lb:env"))  # the page and its table fragment
    assert one_page[0] > 0 and one_page[1] > 0
    for page in ("2", "77", "123456", "999999"):
        assert client.get("/", {"page": page}).status_code == 200
        assert client.get("/boards/cartpole/", {"page": page}).status_code == 200
    assert (keys("lb:home"), keys("lb:env")) == one_page


@pytest.mark.django_db
def test_the_environment_leader_is_the_boards_first_row_when_means_tie(
    client, make_env, make_config, make_runs
) -> None:
    """Ordered by mean alone, the home page named another leader than the board for equal means."""
    from leaderboard import services

    env = make_env(slug="acro", min_seeds=3)
    wide = make_config(name="wide")  # created first: the lower id
    narrow = make_config(name="narrow")
    make_runs(wide, env, [-150.0, -50.0, -100.0])
    make_runs(narrow, env, [-100.0, -100.0, -100.0])
    services.recompute_all()
    board = client.get("/boards/acro/").content.decode()
    assert board.index("narrow v1") < board.index("wide v1"), "equal means: the narrower interval first"
    home = client.get("/").content.decode()
    row = home[home.index('href="/boards/acro/"') :].split("</tr>")[0]
    assert "narrow v1" in row and "wide v1" not in row


@pytest.mark.django_db
def test_a_provisional_row_says_on_how_many_environments_it_is_confirmed(client, board, make_env, make_runs) -> None:
    """Every provisional row said only "provisional": a config confirmed on 8 of 9 environments looked like one
    with a single run."""
    from leaderboard import services

    second = make_env(slug="second", min_seeds=3, random_return=0.0, reference_return=100.0)
    make_runs(board["strong"], second, [50.0, 60.0, 70.0])
    services.recompute_all()
    html = client.get("/").content.decode()
    row = html[html.index(">close v1<") - 600 : html.index(">close v1<")]
    assert "provisional" in row and "1 of 2 envs" in row
