"""Two configs side by side: the parameters that differ, both scores per environment, P(A beats B)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leaderboard import services, stats

URL = reverse("leaderboard:compare")


@pytest.mark.django_db
def test_it_compares_two_configs_on_every_environment(client, board, make_env, make_config, make_runs) -> None:
    strong, close = board["strong"], board["close"]
    other = make_env(slug="pendulum", min_seeds=1, random_return=-1200.0, reference_return=-150.0)
    make_runs(strong, other, [-300.0, -200.0])  # only A has runs here
    services.recompute_all()
    response = client.get(URL, {"a": strong.pk, "b": close.pk})
    assert response.status_code == 200
    comparison = response.context["comparison"]
    diff = {name: (a, b) for name, a, b in comparison.params}
    assert diff["max_kl"] == (0.02, 0.03) and diff["gamma"] == (0.99, 0.98) and diff["activation"] == ("tanh", "relu")
    assert "n_steps" not in diff, "only the fields that differ"
    rows = {r.environment.slug: r for r in comparison.environments}
    assert rows["pendulum"].b is None and rows["pendulum"].p_a_beats_b is None
    # cartpole finals: strong 80, 90, 100 vs close 78, 85, 92: A ahead in 6 of 9 pairs
    expected = stats.probability_of_improvement([[80.0, 90.0, 100.0]], [[78.0, 85.0, 92.0]])
    assert rows["cartpole"].p_a_beats_b.value == pytest.approx(6 / 9) == expected.value
    assert comparison.n_shared == 1 and comparison.p_a_beats_b.value == pytest.approx(6 / 9)
    html = response.content.decode()
    assert 'id="chart-curves-cartpole"' in html
    assert reverse("leaderboard:entry", args=["pendulum", strong.pk]) in html


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{"a": "1", "b": "1"}, {"a": "x", "b": "2"}, {"a": "999999", "b": "1"}])
def test_it_refuses_a_bad_pair_with_a_message(client, board, query) -> None:
    if query["a"] == "1":
        query = {"a": str(board["strong"].pk), "b": str(board["strong"].pk)}
    response = client.get(URL, query)
    assert response.status_code == 400 and response.context["comparison"] is None
    assert response.context["form"].errors


@pytest.mark.django_db
def test_one_config_given_opens_the_form_with_it_chosen(client, board) -> None:
    response = client.get(URL, {"a": board["strong"].pk})
    assert response.status_code == 200 and not response.context["form"].is_bound
    assert f'<option value="{board["strong"].pk}" selected>strong v1 — no owner</option>' in response.content.decode()


def test_its_menus_say_whose_each_config_is(client, board, owner) -> None:
    """As in the submit form: two users' "tiny v1" were the same line."""
    board["close"].owner = owner
    board["close"].save(update_fields=["owner"])
    html = client.get(URL, {"a": board["strong"].pk}).content.decode()
    assert f">close v1 — {owner.username}</option>" in html and ">default v1 — no owner, default</option>" in html


@pytest.mark.django_db
def test_a_comparison_is_cached_until_an_entry_changes(client, board, make_runs, django_assert_max_num_queries) -> None:
    query = {"a": board["strong"].pk, "b": board["close"].pk}
    client.get(URL, query)
    with django_assert_max_num_queries(5):  # the two configs, the stamps, the two selects; no entry rows
        again = client.get(URL, query).context["comparison"]
    make_runs(board["close"], board["env"], [200.0], first_seed=10)
    services.recompute_all()
    fresh = client.get(URL, query).context["comparison"]
    rows = {r.environment.slug: r for r in fresh.environments}
    assert rows["cartpole"].b.n_seeds == 4 and again.environments[0].b.n_seeds == 3


@pytest.mark.django_db
def test_a_cached_comparison_follows_a_renamed_environment(client, board) -> None:
    """The cached comparison held the environments: after a slug edit its links went to 404s for an hour."""
    query = {"a": board["strong"].pk, "b": board["close"].pk}
    assert "/boards/cartpole/" in client.get(URL, query).content.decode()
    env = board["env"]
    env.slug = "cartpole-renamed"
    env.save()
    html = client.get(URL, query).content.decode()
    assert "/boards/cartpole-renamed/" in html and "/boards/cartpole/" not in html
