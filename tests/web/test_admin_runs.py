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
