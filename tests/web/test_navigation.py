"""Pages link to where a user goes next, and show numbers as people read them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from web.catalog.models import Environment


def test_an_environment_page_links_its_board_and_shows_kwargs_as_json(client: Client, tiny_env: Environment) -> None:
    tiny_env.kwargs = {"max_episode_steps": 200}
    tiny_env.save()
    html = client.get(tiny_env.get_absolute_url()).content.decode()
    assert f'href="{reverse("leaderboard:environment", args=[tiny_env.slug])}"' in html
    assert "{&quot;max_episode_steps&quot;: 200}" in html  # JSON, as typed in the form; not Python's {'...': 200}


def test_a_board_links_the_protocol_page_and_offers_signed_in_users_a_run(
    client: Client, user: User, tiny_env: Environment
) -> None:
    url = reverse("leaderboard:environment", args=[tiny_env.slug])
    html = client.get(url).content.decode()
    assert f'href="{tiny_env.get_absolute_url()}"' in html and "submit a run" not in html
    client.force_login(user)
    assert f"{reverse('runs:submit')}?environment={tiny_env.pk}" in client.get(url).content.decode()


def test_a_run_page_links_its_board_rounds_returns_and_asks_before_cancel_or_delete(
    client: Client, user: User, make_run: Any
) -> None:
    run = make_run(status="succeeded", eval_returns=[2948.767816343744, 10.04], steps_done=999_424)
    client.force_login(user)
    html = client.get(run.get_absolute_url()).content.decode()
    assert f'href="{reverse("leaderboard:environment", args=[run.environment.slug])}"' in html
    assert 'data-field="eval_returns">2,948.8; 10.0<' in html
    assert ">999,424<" in html
    assert 'id="delete-form" data-confirm="Delete run' in html and 'id="cancel-form" data-confirm="Cancel run' in html
    assert 'id="queued-note" hidden' in html


def test_a_queued_run_says_it_waits_for_a_worker(client: Client, make_run: Any) -> None:
    html = client.get(make_run().get_absolute_url()).content.decode()
    note = html.split('id="queued-note"', 1)[1].split("</p>", 1)[0]
    assert not note.lstrip().startswith("hidden") and "waiting for a worker" in note


def test_my_runs_shows_a_new_user_where_to_start(client: Client, user: User) -> None:
    client.force_login(user)
    html = client.get(reverse("runs:mine")).content.decode()
    start = html.split('id="getting-started"', 1)[1].split("</section>", 1)[0]
    for name in ("catalog:configs", "catalog:environments", "runs:submit", "leaderboard:home"):
        assert f'href="{reverse(name)}"' in start, name


def test_a_failed_run_says_why_and_how_to_try_again(client: Client, make_run: Any) -> None:
    run = make_run(status="failed", error="ValueError: gymnasium could not build CartPole-v1")
    html = client.get(run.get_absolute_url()).content.decode()
    assert '<h2 id="error-heading" >Why it stopped</h2>' in html or '<h2 id="error-heading">Why it stopped</h2>' in html
    assert f"{reverse('runs:submit')}?config={run.config_id}&amp;environment={run.environment_id}" in html
    assert 'class="progress progress-failed"' in html


def test_the_navigation_and_the_home_page_link_every_run(client: Client, db: None) -> None:
    html = client.get(reverse("leaderboard:home")).content.decode()
    nav = html.split('<nav class="nav" aria-label="Main">', 1)[1].split("</nav>", 1)[0]
    assert f'href="{reverse("runs:list")}">Runs<' in nav
    assert f'href="{reverse("runs:list")}" id="all-runs">See all runs<' in html


def test_environment_and_config_pages_link_their_runs_in_the_runs_list(client: Client, make_run: Any) -> None:
    run = make_run()
    env_html = client.get(run.environment.get_absolute_url()).content.decode()
    assert f'href="{reverse("runs:list")}?environment={run.environment.slug}" id="all-runs"' in env_html
    config_html = client.get(run.config.get_absolute_url()).content.decode()
    assert f'href="{reverse("runs:list")}?config={run.config_id}" id="all-runs"' in config_html
