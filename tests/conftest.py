"""Fixtures shared by every test suite: a real Celery worker process and a headless Chromium.

The worker is a real ``celery worker`` subprocess on the real Redis broker and the pytest-django test database
(PostgreSQL), so tests that use it must see committed rows: use ``transactional_db`` or ``live_server``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# scripts/services.sh installs Chromium and exports its path.
CHROMIUM = os.environ.get("TRUSTBOARD_CHROMIUM") or "/usr/bin/chromium"
# Set by scripts/test.sh (the README's test command): there a missing browser is a failure, never a silent skip.
REQUIRE_BROWSER = os.environ.get("TRUSTBOARD_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@dataclass
class WorkerProcess:
    """A running ``celery worker``; ``log`` is its combined output, for assertions and failure messages."""

    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def tasks_done(self) -> int:
        """Tasks the worker has finished, ``run_finished`` receivers included."""
        return len(re.findall(r"Task runs\.train_run\[[^\]]+\] succeeded", self.output()))

    def wait_until_done(self, count: int, timeout: float = 60.0) -> None:
        """Wait for ``count`` finished tasks: a run's row turns final before its receivers (the leaderboard's
        recompute) have run, and a test must not flush the database under them."""
        deadline = time.monotonic() + timeout
        while self.tasks_done() < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"worker finished {self.tasks_done()} of {count} tasks:\n{self.output()[-3000:]}")
            time.sleep(0.2)

    def wait_for_task(self, task_id: str, timeout: float = 60.0) -> None:
        """Wait until the task with this id has finished (its receivers included)."""
        pattern = rf"Task runs\.train_run\[{re.escape(task_id)}\] succeeded"
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.output()):
            if time.monotonic() > deadline:
                raise AssertionError(f"worker did not finish task {task_id}:\n{self.output()[-3000:]}")
            time.sleep(0.2)


def start_worker(env: dict[str, str], log: Path, *, queues: str = "cpu", timeout: float = 90.0) -> WorkerProcess:
    """Start a worker the way deployments do (prefork, concurrency 1) and wait until it says it is ready."""
    command = [
        sys.executable, "-m", "celery", "-A", "web", "worker", "-Q", queues, "-c", "1",
        "-l", "info", "-n", f"test-{os.getpid()}@%h", "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    handle = log.open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
    worker = WorkerProcess(process, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if " ready." in worker.output():
            return worker
        if process.poll() is not None:
            raise RuntimeError(f"celery worker exited with {process.returncode}:\n{worker.output()}")
        time.sleep(0.2)
    stop_worker(worker)
    raise RuntimeError(f"celery worker was not ready after {timeout}s:\n{worker.output()}")


def stop_worker(worker: WorkerProcess) -> None:
    """Warm shutdown (SIGTERM), then SIGKILL if it does not exit in time."""
    if worker.process.poll() is None:
        worker.process.send_signal(signal.SIGTERM)
        try:
            worker.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait(timeout=10)


def _database_url(db: dict[str, Any]) -> str:
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Every test starts with an empty cache: rate-limit counters (log-ins, sign-ups per address) and cached pages
    of one test must not reach the next."""
    from django.conf import settings

    if settings.configured:
        from django.core.cache import cache

        cache.clear()


@pytest.fixture(scope="session")
def live_worker(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    """A real Celery worker on queue ``cpu`` against the real Redis and the test database.

    Session-scoped (starting one costs seconds); it depends on ``django_db_setup`` so it stops before the test
    database is dropped. The broker's database is emptied first so no stale message from an earlier session
    reaches it.
    """
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "web.settings.test",
        "DATABASE_URL": _database_url(settings.DATABASES["default"]),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    worker = start_worker(env, tmp_path_factory.mktemp("worker") / "worker.log")
    yield worker
    stop_worker(worker)


@pytest.fixture
def spawn_worker() -> Iterator[Any]:
    """``spawn_worker(env, log)`` starts a worker with any settings; every one started is stopped afterwards."""
    started: list[WorkerProcess] = []

    def spawn(env: dict[str, str], log: Path, **kwargs: Any) -> WorkerProcess:
        worker = start_worker(env, log, **kwargs)
        started.append(worker)
        return worker

    yield spawn
    for worker in started:
        stop_worker(worker)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Headless Chromium driven by Playwright (the system browser at /usr/bin/chromium, no download)."""
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}; install it or set TRUSTBOARD_CHROMIUM"
        if REQUIRE_BROWSER:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make between browser
    # steps are still synchronous and safe, so Django's async guard is lifted for the session.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context and page per test (no cookies shared between tests)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()
