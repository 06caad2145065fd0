"""The deployment files no engine runs here: docker/ and the scripts, checked for what a broken edit would break.

No Docker engine runs on our machines, so the compose file and the image are never built in CI. These tests parse
them instead: the services the README promises, a non-root image, scripts that bash can parse, the reconciler's own
queue, and an S3 backend that actually imports.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.utils.module_loading import import_string

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_compose_has_every_service_the_readme_names(compose: dict) -> None:
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker-cpu", "worker-gpu", "beat"} <= set(services)
    assert services["web"]["command"] == ["docker/web.sh"]
    assert "gunicorn" in (DOCKER / "web.sh").read_text()


def test_the_gpu_worker_reserves_an_nvidia_device_behind_a_profile(compose: dict) -> None:
    gpu = compose["services"]["worker-gpu"]
    assert gpu["profiles"] == ["gpu"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)


def test_the_scheduler_serves_the_control_queue_that_beat_sends_the_reconciler_to(compose: dict) -> None:
    command = compose["services"]["beat"]["command"]
    assert command[:4] == ["celery", "-A", "web", "worker"] and "-B" in command
    queue = settings.CELERY_BEAT_SCHEDULE["reconcile-runs"]["options"]["queue"]
    assert command[command.index("--queues") + 1] == queue == "control"
    assert "-Q control" in (ROOT / "scripts" / "run.sh").read_text()


def test_the_image_runs_as_a_non_root_user() -> None:
    users = re.findall(r"^USER\s+(\S+)", (DOCKER / "Dockerfile").read_text(), flags=re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}


def test_the_env_example_names_the_secrets_compose_requires(compose: dict) -> None:
    example = (DOCKER / ".env.example").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", (DOCKER / "compose.yaml").read_text()))
    assert required, "compose requires its secrets with ${VAR:?message}"
    for name in required | {"SECRET_KEY"}:
        assert re.search(rf"^{name}=", example, flags=re.MULTILINE), name


@pytest.mark.parametrize(
    "script", sorted([*DOCKER.glob("*.sh"), *(ROOT / "scripts").glob("*.sh"), ROOT / ".ci" / "run"]), ids=str
)
def test_every_shell_script_parses(script: Path) -> None:
    result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_the_optional_s3_storage_backend_is_installed() -> None:
    """TRUSTBOARD_STORAGE=s3 names this class; it needs boto3, which the [s3] extra of django-storages brings."""
    backend = import_string("storages.backends.s3.S3Storage")
    assert backend.__name__ == "S3Storage"
    import boto3  # noqa: F401
