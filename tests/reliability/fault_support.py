"""Support for the fault-injection tests: a private Redis server, process-tree kills, subprocess commands.

The fault tests own their broker (a ``redis-server`` on a free port that they stop and restart) so that the
shared Redis, and the session-wide worker of the web tests, never see their messages.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings

from trainer import TRPOConfig

ROOT = Path(__file__).resolve().parents[2]

# ~40 updates of 512 steps with a deliberately heavy critic fit: a few seconds, long enough to kill mid-run.
SLOW_PARAMS = TRPOConfig(
    n_steps=512, value_minibatch_size=32, value_epochs=20, hidden_sizes=(32,), value_hidden_sizes=(64, 64),
    device="cpu",
).to_dict()  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """A real redis-server process of the test's own, without persistence: a restart empties it."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.client().ping():
                return
        raise RuntimeError("private redis-server did not start")

    def client(self) -> Any:
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


def database_url(port: int | None = None) -> str:
    db = settings.DATABASES["default"]
    return f"postgres://{db.get('USER') or 'postgres'}@127.0.0.1:{port or db.get('PORT') or 5432}/{db['NAME']}"


def worker_env(broker_url: str, media_root: Path, **overrides: str) -> dict[str, str]:
    """The environment of a worker (or a management command) on the test database and the given broker."""
    return {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "web.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url,
        "MEDIA_ROOT": str(media_root),
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }


def manage(env: dict[str, str], *args: str) -> str:
    """Run ``manage.py`` in a subprocess (as an operator or a cron job would) and return its output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def enqueue_in_subprocess(env: dict[str, str], run_ids: list[int]) -> None:
    """Publish the runs' messages through the product's own enqueue(), on the broker of ``env``."""
    code = (
        "import django; django.setup()\n"
        "from web.runs.models import Run\nfrom web.runs.services import enqueue\n"
        f"[enqueue(r) for r in Run.objects.select_related('environment').filter(pk__in={run_ids!r})]\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=120)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (read from /proc), deepest last."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_tree(pid: int) -> list[int]:
    """SIGKILL a process and everything below it at once: no shutdown handler gets to run."""
    victims = [pid, *descendants(pid)]
    for p in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)
    return victims
