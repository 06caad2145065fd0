"""After a deploy, boards whose figures the previous release built are rebuilt by the new code."""

from __future__ import annotations

import pytest
from django.conf import settings

import leaderboard.services
from leaderboard import tasks
from leaderboard.models import Board
from leaderboard.services import rebuild_boards_of_other_releases
from web.celery import app
from web.release import running_release


def test_boards_record_the_release_that_built_them(board) -> None:
    assert set(Board.objects.values_list("release", flat=True)) == {running_release()}


def test_boards_an_older_release_built_are_rebuilt_and_then_left_alone(
    board, monkeypatch: pytest.MonkeyPatch, django_assert_max_num_queries
) -> None:
    current = {key: figures for key, figures in Board.objects.values_list("key", "figures")}
    Board.objects.update(release="an-older-release", figures={"curves": "{}"})  # what the old code stored

    assert rebuild_boards_of_other_releases() == len(current)
    assert dict(Board.objects.values_list("key", "figures")) == current, "the figures the running code builds"
    assert set(Board.objects.values_list("release", flat=True)) == {running_release()}
    with django_assert_max_num_queries(1):
        assert rebuild_boards_of_other_releases() == 0, "nothing stale: one query"

    monkeypatch.setattr(leaderboard.services, "running_release", lambda: "the-next-release")
    assert rebuild_boards_of_other_releases() == len(current), "the next deploy rebuilds them again"


def test_beat_asks_the_control_worker_to_look_for_stale_boards() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["rebuild-stale-boards"]
    assert entry["task"] == tasks.STALE_TASK_NAME and entry["options"]["queue"] == settings.CONTROL_QUEUE
    app.loader.import_default_modules()
    assert tasks.STALE_TASK_NAME in app.tasks


def test_one_board_that_fails_does_not_keep_the_others_stale(board, make_env, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pass aborted at the first error, every minute, and the boards after it stayed stale."""
    from leaderboard import services

    other = make_env(slug="other")
    services.rerank_environment(other)
    Board.objects.update(release="an-older-release")
    real = services.rerank_environment

    def failing(env):
        if env.pk == board["env"].pk:
            raise RuntimeError("a board whose data cannot be drawn")
        return real(env)

    monkeypatch.setattr(services, "rerank_environment", failing)
    assert rebuild_boards_of_other_releases() == Board.objects.count() - 1
    assert Board.objects.get(key=f"env-{other.pk}").release == running_release()
    assert Board.objects.get(key="overall").release == running_release()
    assert Board.objects.get(key=f"env-{board['env'].pk}").release == "an-older-release", "retried next pass"
