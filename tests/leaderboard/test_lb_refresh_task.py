"""An environment edit's boards are rebuilt by a real control worker, and at once when the broker is down."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from leaderboard import tasks
from leaderboard.models import LeaderboardEntry, OverallEntry

ROOT = Path(__file__).resolve().parents[2]


def _environ(**overrides: str) -> dict[str, str]:
    """A worker's (or a management shell's) environment on the test database and the test broker."""
    db = settings.DATABASES["default"]
    return {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "web.settings.test",
        "DATABASE_URL": f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:"
        f"{db.get('PORT') or 5432}/{db['NAME']}",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }


@pytest.mark.e2e
def test_the_control_worker_rebuilds_an_edited_environments_boards(
    transactional_db: None, make_env, make_config, make_runs, control_queue, spawn_worker, tmp_path: Path
) -> None:
    from leaderboard import services

    env, cfg = make_env(min_seeds=3, reference_return=100.0), make_config()
    make_runs(cfg, env, [40.0, 50.0])
    services.refresh_entry(cfg.pk, env.pk)
    assert LeaderboardEntry.objects.get(config=cfg, environment=env).provisional
    worker = spawn_worker(_environ(), tmp_path / "control.log", queues=settings.CONTROL_QUEUE)
    env.min_seeds = 2  # committed at once (no transaction here), so the message goes out now
    env.save()
    done = rf"Task {re.escape(tasks.TASK_NAME)}\[[^\]]+\] succeeded"
    deadline = time.monotonic() + 60
    while not re.search(done, worker.output()):
        assert time.monotonic() < deadline, f"the control worker did not rebuild the boards:\n{worker.output()}"
        time.sleep(0.2)
    entry = LeaderboardEntry.objects.get(config=cfg, environment=env)
    assert (entry.provisional, entry.rank) == (False, 1)
    assert OverallEntry.objects.filter(config=cfg).exists(), "the overall board counts it now"


@pytest.mark.e2e
def test_an_edit_with_the_broker_down_rebuilds_the_boards_in_the_request(
    transactional_db: None, make_env, make_config, make_runs, control_queue
) -> None:
    """No broker to take the message: the edit is saved and its boards are rebuilt by the process that saved it,
    rather than describing the old fields until someone runs recompute_leaderboard."""
    from leaderboard import services

    env, cfg = make_env(min_seeds=3, reference_return=100.0), make_config()
    make_runs(cfg, env, [40.0, 50.0])
    services.refresh_entry(cfg.pk, env.pk)
    with socket.socket() as s:  # a port nothing listens on once this socket closes
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    code = (
        "from web.catalog.models import Environment\n"
        f"env = Environment.objects.get(pk={env.pk}); env.min_seeds = 2; env.save()\n"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env=_environ(CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port}/0"), check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"could not queue {tasks.TASK_NAME}({env.pk},)" in result.stderr
    entry = LeaderboardEntry.objects.get(config=cfg, environment=env)
    assert (entry.provisional, entry.rank) == (False, 1)
    # About this edit, that is: another process on this broker (a developer's shell) may send its own messages.
    assert (tasks.TASK_NAME, [env.pk]) not in control_queue(), "nothing reached the real broker either"


def test_a_refresh_for_an_environment_deleted_since_does_nothing(make_env) -> None:
    """Runs protect their environment, so only one without runs can go; a message about it may still be queued."""
    env = make_env()
    environment_id = env.pk
    env.delete()
    tasks.refresh_environment_boards(environment_id)  # the worker's task returns instead of failing
    assert not LeaderboardEntry.objects.filter(environment_id=environment_id).exists()
