"""The entry page: config, every run with checkpoint links, charts, and the reproduce button."""

from __future__ import annotations

import json

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from web.runs.models import Run


def entry_url(board, name: str = "strong") -> str:
    return reverse("leaderboard:entry", args=["cartpole", board[name].pk])


@pytest.mark.django_db
def test_it_shows_the_config_runs_and_charts(client, board, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    run = board["strong"].runs.order_by("seed").first()
    run.checkpoint.save("strong.safetensors", ContentFile(b"weights"), save=True)
    response = client.get(entry_url(board))
    html = response.content.decode()
    assert response.status_code == 200
    assert "&quot;max_kl&quot;: 0.02" in html
    assert html.count("<td>succeeded") + html.count("<td>Succeeded") == 3
    assert reverse("runs:checkpoint", args=[run.pk]) in html
    assert 'id="fig-learning_curve"' in html and 'id="fig-kl"' in html


@pytest.mark.django_db
def test_it_answers_404_without_an_entry(client, board, make_config) -> None:
    assert client.get(reverse("leaderboard:entry", args=["cartpole", make_config().pk])).status_code == 404


@pytest.mark.django_db
def test_it_runs_a_bounded_number_of_queries(client, board, make_runs, django_assert_max_num_queries) -> None:
    make_runs(board["strong"], board["env"], [1.0] * 6, first_seed=100)
    with django_assert_max_num_queries(6):
        client.get(entry_url(board))


@pytest.mark.django_db
def test_it_reproduces_an_entry_with_the_same_seeds(client, board, owner) -> None:
    client.force_login(owner)
    before = Run.objects.count()
    response = client.post(reverse("leaderboard:reproduce", args=["cartpole", board["strong"].pk]))
    assert response.status_code == 302 and response["Location"] == reverse("runs:mine")
    new = Run.objects.order_by("pk")[before:]
    assert [(r.seed, r.status, r.owner_id) for r in new] == [(0, "queued", owner.pk), (1, "queued", owner.pk),
                                                             (2, "queued", owner.pk)]  # fmt: skip
    assert {(r.config_id, r.environment_id) for r in new} == {(board["strong"].pk, board["env"].pk)}


def test_a_reproduction_for_the_gpu_queue_is_refused_where_no_worker_serves_it(client, board, owner, settings) -> None:
    settings.TRUSTBOARD_GPU_WORKERS, settings.TRUSTBOARD_AUTO_QUEUE = False, "gpu"  # board configs are "auto"
    client.force_login(owner)
    count = Run.objects.count()
    response = client.post(reverse("leaderboard:reproduce", args=["cartpole", board["strong"].pk]), follow=True)
    assert "this site runs no GPU workers" in response.content.decode()
    assert Run.objects.count() == count


@pytest.mark.django_db
def test_it_refuses_a_second_reproduction_while_one_is_pending(client, board, owner) -> None:
    client.force_login(owner)
    url = reverse("leaderboard:reproduce", args=["cartpole", board["strong"].pk])
    client.post(url)
    count = Run.objects.count()
    response = client.post(url)
    assert response.status_code == 302 and Run.objects.count() == count


@pytest.mark.django_db
def test_it_asks_anonymous_users_to_sign_in_and_refuses_get(client, board) -> None:
    url = reverse("leaderboard:reproduce", args=["cartpole", board["strong"].pk])
    count = Run.objects.count()
    assert client.post(url).status_code == 302
    assert client.get(url).status_code == 405
    assert Run.objects.count() == count
    html = client.get(entry_url(board)).content.decode()
    assert f'{reverse("accounts:login")}?next={entry_url(board)}">Sign in</a> to reproduce' in html


@pytest.mark.django_db
def test_it_never_serves_the_anonymous_copy_to_a_signed_in_user(client, board, owner,
                                                                django_assert_max_num_queries) -> None:  # fmt: skip
    url = entry_url(board)
    assert "</a> to reproduce this entry" in client.get(url).content.decode()
    with django_assert_max_num_queries(2):  # anonymous repeat: the entry and its runs' signature
        client.get(url)
    client.force_login(owner)
    html = client.get(url).content.decode()
    assert ">Reproduce</button>" in html and "csrfmiddlewaretoken" in html


@pytest.mark.django_db
def test_it_shows_new_runs_of_the_entry_at_once(client, board, owner) -> None:
    url = entry_url(board)
    assert client.get(url).content.decode().count("<td>Queued") == 0
    Run.objects.create(config=board["strong"], environment=board["env"], seed=7, owner=owner)
    assert client.get(url).content.decode().count("<td>Queued") == 1


@pytest.mark.django_db
def test_it_shows_a_rank_that_moved_because_of_another_entry(client, board, make_config, make_runs) -> None:
    from leaderboard import services

    url = entry_url(board, "default")
    assert "<dd>3</dd>" in client.get(url).content.decode()
    cfg = make_config(name="newcomer")
    make_runs(cfg, board["env"], [500.0, 510.0, 520.0])
    services.refresh_entry(cfg.pk, board["env"].pk)
    assert "<dd>4</dd>" in client.get(url).content.decode()


@pytest.mark.django_db
def test_a_reproduction_with_the_broker_down_keeps_its_runs_and_answers(
    client, board, owner, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    """Publishing fails after the rows are committed: every seed still tries, and the reconciler publishes later."""
    from kombu.exceptions import OperationalError

    from web.runs.tasks import train_run

    def broker_down(*args, **kwargs) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(train_run, "apply_async", broker_down)
    client.force_login(owner)
    before = Run.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("leaderboard:reproduce", args=["cartpole", board["strong"].pk]))
    assert response.status_code == 302
    new = list(Run.objects.order_by("pk")[before:])
    assert len(new) == 3 and all(r.status == "queued" and r.enqueued_at is not None for r in new)


@pytest.mark.django_db
def test_it_offers_the_best_seeds_checkpoint_first_with_the_loading_snippet(client, board, settings, tmp_path) -> None:
    """A visitor who wants "the trained agent" gets the best seed's download at the top, not five links at the end."""
    settings.MEDIA_ROOT = tmp_path
    runs = list(board["strong"].runs.order_by("seed"))  # finals 80, 90, 100
    for run in runs[:2]:
        run.checkpoint.save(f"r{run.pk}.safetensors", ContentFile(b"weights"), save=True)
    html = client.get(entry_url(board)).content.decode()
    best = runs[1]  # the best seed *with a checkpoint*
    section = html.split('id="best-checkpoint"', 1)[1].split("</section>", 1)[0]
    assert reverse("runs:checkpoint", args=[best.pk]) in section and f"seed {best.seed}," in section
    assert f'load_policy("run-{best.pk}.safetensors")' in section
    assert html.index('id="best-checkpoint"') < html.index('id="entry-runs"')
    assert f'href="{reverse("catalog:config", args=[board["strong"].pk])}"' in html
    assert "<details" in html, "the full config JSON is folded"


@pytest.mark.django_db
def test_an_entry_without_checkpoints_offers_no_download(client, board) -> None:
    assert 'id="best-checkpoint"' not in client.get(entry_url(board)).content.decode()


@pytest.mark.django_db
def test_a_config_page_lists_its_results_with_links_to_its_entries(client, board, make_config) -> None:
    html = client.get(board["strong"].get_absolute_url()).content.decode()
    table = html.split('id="config-entries"', 1)[1].split("</table>", 1)[0]
    assert f'href="{entry_url(board)}">cartpole</a>' in table
    assert "1 (tied)" in table and "90.0 [" in table and '<td class="opt">3</td>' in table
    assert "No finished runs yet" in client.get(make_config().get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_an_entry_of_many_seeds_draws_thin_lines_not_a_block_of_markers(make_env, make_config, make_runs) -> None:
    """Ten seeds' lines and markers over every update were a solid block of colour."""
    from leaderboard import entries

    env, config = make_env(), make_config()
    few = make_runs(config, env, [1.0, 2.0])
    many = make_runs(make_config(), env, [float(i) for i in range(6)])
    kl_few = json.loads(entries.build_entry_figures(few, config.params)["kl"])
    kl_many = json.loads(entries.build_entry_figures(many, config.params)["kl"])
    seeds_few = [t for t in kl_few["data"] if t["name"].startswith("seed")]
    seeds_many = [t for t in kl_many["data"] if t["name"].startswith("seed")]
    assert {t["mode"] for t in seeds_few} == {"lines+markers"}
    assert {t["mode"] for t in seeds_many} == {"lines"} and len(seeds_many) == 6
