"""The run page, its JSON feed, My runs and the checkpoint download."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from web.runs.models import RunMetric


def add_metrics(run: Any, n: int) -> None:
    for update in range(1, n + 1):
        metrics = {"rollout/ep_return_mean": 10.0 * update, "train/kl": 0.005, "train/line_search_steps": 1.0,
                   "train/entropy": 0.69, "time/steps": 256.0 * update, "time/update": float(update)}  # fmt: skip
        RunMetric.objects.create(run=run, update=update, steps=256 * update, metrics=metrics)


def test_it_renders_the_run_page_with_local_plotly_and_four_charts(client: Client, make_run: Any) -> None:
    run = make_run()
    add_metrics(run, 3)
    html = client.get(run.get_absolute_url()).content.decode()
    assert "/static/vendor/plotly.min.js" in html and "cdn" not in html.lower()
    for key in ("learning_curve", "kl", "line_search", "entropy"):
        assert f'id="chart-{key}"' in html
    assert '"rollout/ep_return_mean"' in html  # trace meta names the metric for live updates


def test_it_feeds_only_the_updates_after_the_last_one_seen(client: Client, make_run: Any) -> None:
    run = make_run()
    add_metrics(run, 5)
    data = client.get(reverse("runs:status", args=[run.pk]), {"after": 3}).json()
    assert [row["update"] for row in data["metrics"]] == [4, 5]
    assert data["status"] == "queued" and data["is_active"] and not data["has_checkpoint"]


def test_the_live_feed_is_valid_json_whatever_numbers_a_run_holds(client: Client, make_run: Any) -> None:
    """A NaN stored in a run was written as a bare NaN token, which the page's JSON.parse refuses: it stopped."""
    import json

    import pytest

    run = make_run()
    type(run).objects.filter(pk=run.pk).update(final_return_mean=float("nan"), steps_per_s=float("-inf"))
    text = client.get(reverse("runs:status", args=[run.pk])).content.decode()
    data = json.loads(text, parse_constant=lambda token: pytest.fail(f"{token} is not JSON"))
    assert data["final_return_mean"] is None and data["steps_per_s"] is None
    page = client.get(run.get_absolute_url()).content.decode()
    assert "NaN" not in page and "Infinity" not in page


def test_it_lists_only_my_runs_in_a_bounded_number_of_queries(
    client: Client, user: User, other_user: User, make_run: Any, django_assert_max_num_queries: Any
) -> None:
    mine = [make_run(seed=i) for i in range(5)]
    theirs = make_run(owner=other_user, seed=9)
    client.force_login(user)
    with django_assert_max_num_queries(6):
        html = client.get(reverse("runs:mine")).content.decode()
    assert all(f"#{run.pk}<" in html for run in mine) and f"#{theirs.pk}<" not in html


def test_it_has_no_checkpoint_to_download_before_the_run_succeeds(client: Client, make_run: Any) -> None:
    run = make_run()
    assert client.get(reverse("runs:checkpoint", args=[run.pk])).status_code == 404


def test_it_sends_anonymous_visitors_from_my_runs_to_login(client: Client, db: None) -> None:
    response = client.get(reverse("runs:mine"))
    assert response.status_code == 302 and reverse("accounts:login") in response.url


def test_it_serves_plotly_js_from_local_static_files(client: Client, db: None) -> None:
    response = client.get("/static/vendor/plotly.min.js")
    assert response.status_code == 200
    assert b"plotly" in b"".join(response.streaming_content)[:2000].lower()


def test_it_pages_long_runs_so_the_page_fetches_the_rest(client: Client, make_run: Any) -> None:
    run = make_run()
    RunMetric.objects.bulk_create(
        RunMetric(run=run, update=u, steps=256 * u, metrics={"train/kl": 0.01}) for u in range(1, 2006)
    )
    html = client.get(run.get_absolute_url()).content.decode()
    assert '"more": true' in html and '"last_update": 2000' in html
    rest = client.get(reverse("runs:status", args=[run.pk]), {"after": 2000}).json()["metrics"]
    assert [row["update"] for row in rest] == [2001, 2002, 2003, 2004, 2005]


def test_a_checkpoint_lost_from_storage_is_a_404_not_a_500(client: Client, make_run: Any) -> None:
    run = make_run(status="succeeded")
    run.checkpoint.name = "checkpoints/lost/run-gone.safetensors"  # recorded, but no such file in storage
    run.save(update_fields=["checkpoint"])
    response = client.get(reverse("runs:checkpoint", args=[run.pk]))
    assert response.status_code == 404


def test_a_missing_checkpoint_says_why_without_debug(client: Client, make_run: Any, settings: Any) -> None:
    """Http404's message shows only with DEBUG: a download of a lost file or of a failed run said "Not Found"."""
    settings.DEBUG = False
    lost = make_run(status="succeeded")
    lost.checkpoint.name = "checkpoints/lost/run-gone.safetensors"
    lost.save(update_fields=["checkpoint"])
    failed = make_run(status="failed", seed=1)
    for run, message in (
        (lost, f"Run {lost.pk}'s checkpoint file is missing from storage."),
        (failed, f"Run {failed.pk} has no checkpoint: it is failed, and only a run that succeeded has one."),
    ):
        response = client.get(reverse("runs:checkpoint", args=[run.pk]))
        assert response.status_code == 404 and response["Content-Type"].startswith("text/plain")
        assert response.content.decode().strip() == message
        head = client.head(reverse("runs:checkpoint", args=[run.pk]))
        assert head.status_code == 404 and head.content == b""


def test_json_and_downloads_answer_head_as_link_checkers_send_it(client: Client, make_run: Any) -> None:
    run = make_run()
    for url in (reverse("runs:status", args=[run.pk]), "/api/", f"/api/runs/{run.pk}/"):
        response = client.head(url)
        assert response.status_code == 200, url
        assert response.content == b"", url


def test_ids_too_long_for_the_database_are_a_404(client: Client, make_run: Any) -> None:
    """A foreign-key lookup with 2**63 raised OverflowError in the driver (a 500); <id:...> stops it at the URL."""
    run = make_run()
    slug = run.environment.slug
    for url in (
        f"/boards/{slug}/entries/{2**63}/",
        f"/boards/{slug}/entries/{10**30}/",
        f"/runs/{2**63}/",
        f"/configs/{2**64}/",
        f"/api/runs/{2**63}/",
    ):
        assert client.get(url).status_code == 404, url


def test_media_files_are_not_served_even_in_debug(client: Client, settings: Any, tmp_path: Any) -> None:
    """MEDIA_ROOT holds resume states besides checkpoints; downloads go through runs:checkpoint only."""
    import importlib

    from django.urls import clear_url_caches

    import web.urls

    state = tmp_path / "resume" / "run-1" / "state.pt"
    state.parent.mkdir(parents=True)
    state.write_bytes(b"torch state")
    settings.MEDIA_ROOT = str(tmp_path)
    settings.DEBUG = True  # the URL conf is read again under DEBUG, as a local server starts
    try:
        importlib.reload(web.urls)
        clear_url_caches()
        assert client.get("/media/resume/run-1/state.pt").status_code == 404
    finally:
        settings.DEBUG = False
        importlib.reload(web.urls)
        clear_url_caches()


def test_a_run_without_an_evaluation_says_so_and_a_succeeded_one_links_its_entry(client: Client, make_run: Any) -> None:
    """A queued or failed run showed "— ± —" as its final evaluation; a finished one had no way to its entry."""
    from web.runs.models import RunStatus

    queued = make_run()
    html = client.get(queued.get_absolute_url()).content.decode()
    assert "not evaluated yet</span>" in html and '<span id="evaluated" hidden>' in html
    done = make_run(seed=1, status=RunStatus.SUCCEEDED, final_return_mean=480.0, final_return_std=3.0)
    html = client.get(done.get_absolute_url()).content.decode()
    assert (
        '<span id="not-evaluated" hidden>' in html
        and '"final_return_mean">480.0</span> ± <span data-field="final_return_std">3.0<' in html
    )
    assert f'/boards/{done.environment.slug}/entries/{done.config_id}/">the entry it counts in</a>' in html


def test_a_run_that_failed_before_its_first_update_says_so_instead_of_drawing_empty_charts(
    client: Client, make_run: Any
) -> None:
    run = make_run(status="failed", error="worker lost")
    html = client.get(run.get_absolute_url()).content.decode()
    assert "No updates recorded: the run failed before its first update." in html
    assert 'id="chart-learning_curve"' not in html


def test_a_queued_run_keeps_its_charts_hidden_until_the_first_update(client: Client, make_run: Any) -> None:
    run = make_run()
    html = client.get(run.get_absolute_url()).content.decode()
    assert 'id="charts" hidden' in html and 'id="chart-learning_curve"' in html  # drawn by run.js later
    assert "Charts appear after the first update" in html
    add_metrics(run, 1)
    html = client.get(run.get_absolute_url()).content.decode()
    assert 'id="charts" hidden' not in html and 'id="charts-empty" data-field="no_updates_note" hidden' in html
    assert 'style="min-height: 300px"' in html, "the box keeps the figure's height before plotly.js draws"


def test_the_loading_snippet_runs_as_written_beside_the_download(
    client: Client, make_run: Any, settings: Any, tmp_path: Any
) -> None:
    """Its last line acted on an ``obs`` it never defined: copied as shown, it ended in a NameError."""
    import html as html_lib
    import re
    import subprocess
    import sys

    from django.core.files.base import ContentFile

    from trainer import TRPOConfig, checkpoint_bytes, train

    settings.MEDIA_ROOT = tmp_path / "media"
    config = TRPOConfig(n_envs=1, n_steps=64, value_minibatch_size=32, hidden_sizes=(8,), value_hidden_sizes=(8,))
    agent = train(config, "CartPole-v1", {"max_episode_steps": 50}, total_steps=64, seed=0).agent
    data = checkpoint_bytes(agent, env_id="CartPole-v1", env_kwargs={"max_episode_steps": 50})
    run = make_run(status="succeeded", final_return_mean=9.0)
    run.checkpoint.save(run.checkpoint_filename, ContentFile(data), save=True)

    page = client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    snippet = html_lib.unescape(re.search(r'<pre class="snippet">(.*?)</pre>', page, re.S).group(1))
    download = client.get(reverse("runs:checkpoint", args=[run.pk]))
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / run.checkpoint_filename).write_bytes(b"".join(download.streaming_content))
    done = subprocess.run(
        [sys.executable, "-c", f"{snippet}\nprint('action', action)"], cwd=folder, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert re.search(r"^action [01]$", done.stdout, re.M), done.stdout
