"""The admin shows runs and leaderboard rows as the workers and the boards wrote them: no result can be typed over."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from leaderboard.models import LeaderboardEntry
from leaderboard.services import refresh_entry
from web.catalog.models import TrainerConfig
from web.runs.models import Run


def test_a_runs_results_are_read_only_in_the_admin(client: Client, django_user_model: Any, tiny_env: Any) -> None:
    """eval_returns set to 5 made the run page a 500 and every later rebuild of its board fail; a typed-over score
    changed the run page and never the board."""
    staff = django_user_model.objects.create_superuser("root", password="pw-root-123")
    other = django_user_model.objects.create_user("other", password="pw-other-123")
    client.force_login(staff)
    config = TrainerConfig.objects.create(name="cfg", owner=staff, params={})
    run = Run.objects.create(config=config, environment=tiny_env, seed=0, owner=staff, status="succeeded",
                             final_return_mean=10.0, eval_returns=[9.0, 11.0], eval_lengths=[5, 5])  # fmt: skip
    refresh_entry(config.pk, tiny_env.pk)
    url = reverse("admin:runs_run_change", args=[run.pk])
    page = client.get(url).content.decode()
    assert 'name="eval_returns"' not in page and 'name="final_return_mean"' not in page and 'name="owner"' in page
    response = client.post(url, {"owner": other.pk, "eval_returns": "5", "final_return_mean": "999999"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert (run.owner_id, run.eval_returns, run.final_return_mean) == (other.pk, [9.0, 11.0], 10.0)
    assert client.get(run.get_absolute_url()).status_code == 200


def test_leaderboard_rows_cannot_be_deleted_in_the_admin(client: Client, django_user_model: Any, tiny_env: Any) -> None:
    """A deleted entry vanished from its board until an unrelated refresh rebuilt it from the runs."""
    staff = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client.force_login(staff)
    config = TrainerConfig.objects.create(name="cfg", owner=staff, params={})
    Run.objects.create(config=config, environment=tiny_env, seed=0, owner=staff, status="succeeded",
                       final_return_mean=10.0, eval_returns=[10.0], eval_lengths=[5])  # fmt: skip
    entry = refresh_entry(config.pk, tiny_env.pk)
    response = client.post(reverse("admin:leaderboard_leaderboardentry_delete", args=[entry.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert LeaderboardEntry.objects.filter(pk=entry.pk).exists()


def test_runs_are_not_added_in_the_admin_and_an_owner_change_writes_only_the_owner(
    client: Client, django_user_model: Any, tiny_env: Any
) -> None:
    """The add form (every field read-only but the owner) saved a run without seed or config: a 500. A change
    wrote back every column read when the page loaded, over what a worker wrote since."""
    staff = django_user_model.objects.create_superuser("root", password="pw-root-123")
    other = django_user_model.objects.create_user("other", password="pw-other-123")
    client.force_login(staff)
    assert client.post(reverse("admin:runs_run_add"), {"owner": staff.pk}).status_code == 403
    config = TrainerConfig.objects.create(name="cfg", owner=staff, params={})
    run = Run.objects.create(config=config, environment=tiny_env, seed=0, owner=staff, status="running")
    url = reverse("admin:runs_run_change", args=[run.pk])
    client.get(url)
    Run.objects.filter(pk=run.pk).update(status="succeeded", final_return_mean=5.0)  # a worker finishes meanwhile
    assert client.post(url, {"owner": other.pk}).status_code == 302
    run.refresh_from_db()
    assert (run.owner_id, run.status, run.final_return_mean) == (other.pk, "succeeded", 5.0)


def test_an_environment_with_a_board_can_still_be_deleted_in_the_admin(
    client: Client, django_user_model: Any, tiny_env: Any
) -> None:
    """Deleting it cascades to its Board row; the admin checks delete permission on every row a cascade reaches."""
    from leaderboard.models import Board
    from leaderboard.services import refresh_environment

    staff = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client.force_login(staff)
    refresh_environment(tiny_env.pk)
    assert Board.objects.filter(key=f"env-{tiny_env.pk}").exists()
    response = client.post(reverse("admin:catalog_environment_delete", args=[tiny_env.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not type(tiny_env).objects.filter(pk=tiny_env.pk).exists()


def test_renaming_a_user_to_anothers_name_in_another_case_is_a_form_error(
    client: Client, django_user_model: Any
) -> None:
    """Usernames are unique whatever their case in the database: the admin's rename was a 500 (IntegrityError)."""
    staff = django_user_model.objects.create_superuser("root", password="pw-root-123")
    django_user_model.objects.create_user("demo", password="pw-demo-123")
    other = django_user_model.objects.create_user("someone", password="pw-some-123")
    client.force_login(staff)
    url = f"/admin/auth/user/{other.pk}/change/"
    form = {"username": "Demo", "password": other.password, "is_active": "on", "date_joined_0": "2026-12-02",
            "date_joined_1": "10:00:00"}  # fmt: skip
    response = client.post(url, form)
    assert response.status_code == 200 and "A user with that username already exists." in response.content.decode()
    other.refresh_from_db()
    assert other.username == "someone"


def test_an_updates_metrics_are_view_only_in_the_admin_and_go_with_their_run(
    client: Client, django_user_model: Any, tiny_env: Any
) -> None:
    """``metrics`` typed over as a JSON string made the run page and its entry page a 500; any other edit, addition
    or deletion changed the learning curve and never the board."""
    from web.runs.models import RunMetric

    staff = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client.force_login(staff)
    config = TrainerConfig.objects.create(name="cfg", owner=staff, params={})
    run = Run.objects.create(config=config, environment=tiny_env, seed=0, owner=staff, status="succeeded",
                             final_return_mean=10.0, eval_returns=[10.0], eval_lengths=[5])  # fmt: skip
    metric = RunMetric.objects.create(run=run, update=1, steps=64, metrics={"rollout/ep_return_mean": 9.0})
    url = reverse("admin:runs_runmetric_change", args=[metric.pk])
    assert client.get(url).status_code == 200  # staff still see it
    assert client.post(url, {"run": run.pk, "update": 1, "steps": 64, "metrics": '"oops"'}).status_code == 403
    add = {"run": run.pk, "update": 2, "steps": 128, "metrics": "{}"}
    assert client.post(reverse("admin:runs_runmetric_add"), add).status_code == 403
    delete = reverse("admin:runs_runmetric_delete", args=[metric.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [metric.pk], "post": "yes"}
    client.post(reverse("admin:runs_runmetric_changelist"), bulk)
    metric.refresh_from_db()
    assert metric.metrics == {"rollout/ep_return_mean": 9.0} and RunMetric.objects.count() == 1
    assert client.get(run.get_absolute_url()).status_code == 200
    # Deleting the run in the admin still takes its metrics with it.
    response = client.post(reverse("admin:runs_run_delete", args=[run.pk]), {"post": "yes"})
    assert response.status_code == 302 and not RunMetric.objects.exists() and not Run.objects.exists()


def test_the_admins_run_page_links_the_checkpoint_to_its_download(
    client: Client, django_user_model: Any, tiny_env: Any, settings: Any, tmp_path: Any
) -> None:
    """A read-only FileField links to MEDIA_URL, which is never served: the admin's checkpoint link was a 404."""
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    staff = django_user_model.objects.create_superuser("root", password="pw-root-123")
    client.force_login(staff)
    config = TrainerConfig.objects.create(name="cfg", owner=staff, params={})
    run = Run.objects.create(config=config, environment=tiny_env, seed=0, owner=staff, status="succeeded")
    run.checkpoint.save(run.checkpoint_filename, ContentFile(b"weights"), save=True)
    run.resume_state.name = f"resume/run-{run.pk}/update-5.state"
    run.save(update_fields=["resume_state"])
    page = client.get(reverse("admin:runs_run_change", args=[run.pk])).content.decode()
    download = reverse("runs:checkpoint", args=[run.pk])
    assert f'<a href="{download}">run-{run.pk}.safetensors</a>' in page
    assert settings.MEDIA_URL not in page and f"resume/run-{run.pk}/update-5.state" in page
    assert 'type="file"' not in page, "the files stay read-only"
    assert client.get(download).status_code == 200
    assert client.post(reverse("admin:runs_run_change", args=[run.pk]), {"owner": staff.pk}).status_code == 302
    run.refresh_from_db()
    assert run.checkpoint.name and run.resume_state.name == f"resume/run-{run.pk}/update-5.state"
