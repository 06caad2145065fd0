"""End to end on the embedded default: SQLite file + kombu filesystem broker, no server besides Django's.

Everything runs in subprocesses with local settings in a fresh var directory, the way ``scripts/run.sh``
starts the product: migrate, load the catalog and demo account, a worker, the web server. The test then
drives the site over HTTP like a user.

The same flow runs a second time with a ``cuda`` config and a worker on the ``gpu`` queue where CUDA is present
(the GPU worker path: routing, training on the GPU, a checkpoint that loads on CPU); elsewhere it skips.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from web_helpers import HttpSession, config_form_data, wait_for

from trainer import load_policy

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ON_GPU = pytest.param(
    "cuda",
    marks=[pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")],
)
ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "demo-embedded-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "MEDIA_ROOT"}}
    return env | {
        "DJANGO_SETTINGS_MODULE": "web.settings.local",
        "TRUSTBOARD_VAR_DIR": str(tmp_path / "var"),
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True,
                   timeout=180)  # fmt: skip


@pytest.mark.parametrize("device", ["cpu", ON_GPU])
def test_it_trains_a_run_on_sqlite_and_the_filesystem_broker(
    embedded_env: dict[str, str], tmp_path: Path, spawn_worker: Any, device: str
) -> None:
    manage(embedded_env, "migrate", "--noinput")
    manage(embedded_env, "load_catalog", "--demo-password", DEMO_PASSWORD)
    # A cuda config is routed to the gpu queue; a worker on the cpu queue alone would never see it.
    worker = spawn_worker(embedded_env, tmp_path / "worker.log", queues="gpu" if device == "cuda" else "cpu")
    assert "filesystem://" in worker.output()
    assert (tmp_path / "var" / "trustboard.sqlite3").exists()
    _drive_the_site(embedded_env, tmp_path, worker, device)


def _drive_the_site(env: dict[str, str], tmp_path: Path, worker: Any, device: str) -> None:
    # The web server starts after migrate, like in scripts/run.sh.
    port = free_port()
    log = (tmp_path / "web.log").open("wb")
    command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        http = HttpSession(f"http://127.0.0.1:{port}")

        def up() -> bool:
            try:
                return http.request("/accounts/login/")[0] == 200
            except OSError:
                return False

        wait_for(up, 60, "the web server")
        _train_through_forms(http, tmp_path, worker, device)
    finally:
        server.terminate()
        server.wait(timeout=20)


def _train_through_forms(http: HttpSession, tmp_path: Path, worker: Any, device: str) -> None:
    status, url, _ = http.post_form("/accounts/login/", {"username": "demo", "password": DEMO_PASSWORD})
    assert status == 200 and url.endswith("/runs/mine/"), url

    env_form = {"slug": "cartpole-tiny", "gym_id": "CartPole-v1", "kwargs": "{}", "budget_steps": 2048,
                "eval_episodes": 2, "eval_seed": 1000, "deterministic_eval": "on", "random_return": 22,
                "reference_return": 500, "min_seeds": 1}  # fmt: skip
    status, url, body = http.post_form("/environments/new/", env_form)
    assert url.endswith("/environments/cartpole-tiny/"), body[:2000]
    assert b"Discrete(2)" in body

    params = config_form_data(name="tiny", n_steps=256, value_minibatch_size=64, value_epochs=2,
                              hidden_sizes="16", value_hidden_sizes="16", device=device)  # fmt: skip
    status, url, body = http.post_form("/configs/new/", params)
    config_id = int(re.search(r"/configs/(\d+)/$", url).group(1))
    env_id = int(re.search(rb'<option value="(\d+)">cartpole-tiny', http.request("/runs/new/")[2]).group(1))

    status, url, _ = http.post_form("/runs/new/", {"config": config_id, "environment": env_id, "seeds": 1})
    run_id = int(re.search(r"/runs/(\d+)/$", url).group(1))
    status_url = f"/runs/{run_id}/status.json"

    def finished() -> dict[str, Any] | None:
        data = http.json(status_url)
        return data if data["status"] in {"succeeded", "failed", "cancelled"} else None

    try:
        data = wait_for(finished, 120, f"run {run_id} to finish", interval=0.5)
    except AssertionError:
        raise AssertionError(worker.output()[-4000:]) from None
    assert data["status"] == "succeeded", data["error"]
    assert [row["update"] for row in data["metrics"]] == list(range(1, 9))
    assert len(data["eval_returns"]) == 2 and data["has_checkpoint"]

    status, _, blob = http.request(f"/runs/{run_id}/checkpoint/")
    path = tmp_path / f"run-{run_id}.safetensors"
    path.write_bytes(blob)
    policy = load_policy(path)  # on CPU, whatever the run trained on
    assert status == 200 and policy.metadata["env_id"] == "CartPole-v1"
    assert policy.act(np.zeros((3, 4))).shape == (3,)
    trained_on = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    assert policy.metadata["versions"]["device"] == trained_on
    page = http.request(f"/runs/{run_id}/")[2].decode()
    assert f'load_policy("run-{run_id}.safetensors")' in page
    state = json.loads(re.search(r'id="run-state" type="application/json">(.*?)</script>', page).group(1))
    assert state["status"] == "succeeded"
