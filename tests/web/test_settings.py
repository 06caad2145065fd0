"""Settings: typed helpers fail loudly; production refuses to start half-configured and passes check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from web.settings.env import env_bool, env_int, env_list, env_secret

ROOT = Path(__file__).resolve().parents[2]


def test_it_parses_booleans_strictly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env_bool("FLAG", False)


def test_it_refuses_non_integers_and_values_below_the_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("N", "ten")
    with pytest.raises(ImproperlyConfigured, match="N='ten'"):
        env_int("N", 1)
    monkeypatch.setenv("N", "-1")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("N", 1, minimum=0)


def test_it_requires_secrets_and_refuses_placeholders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        env_secret("SECRET_KEY")
    monkeypatch.setenv("SECRET_KEY", "change-me")
    with pytest.raises(ImproperlyConfigured):
        env_secret("SECRET_KEY")


def test_it_splits_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOSTS", "a.example, b.example,")
    assert env_list("HOSTS") == ["a.example", "b.example"]


def production_env(**overrides: str | None) -> dict[str, str]:
    # The browser fixture lifts Django's async guard for the test process; production must never inherit that.
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "web.settings.production",
        "SECRET_KEY": "k3Jq9-vT2pL8zR4wY6nB1mX5cF7hD0sG" * 2,
        "ALLOWED_HOSTS": "trustboard.example",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    }
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def test_it_passes_check_deploy_in_production() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL"])
def test_it_refuses_to_start_production_without(missing: str) -> None:
    result = manage("check", env=production_env(**{missing: None}))
    assert result.returncode != 0 and missing in result.stderr


def test_every_documented_variable_is_read_from_the_environment() -> None:
    """The README's table listed the quotas as variables, but nothing read them: setting one changed nothing."""
    names = {
        "TRUSTBOARD_MAX_ACTIVE_RUNS": "7", "TRUSTBOARD_MAX_STEPS_PER_DAY": "12345",
        "TRUSTBOARD_LOGIN_MAX_FAILURES": "4", "TRUSTBOARD_LOGIN_MAX_FAILURES_PER_IP": "9",
        "TRUSTBOARD_LOGIN_WINDOW_SECONDS": "60", "TRUSTBOARD_TRUSTED_PROXIES": "1", "TRUSTBOARD_GPU_WORKERS": "false",
        "TRUSTBOARD_SIGNUPS_PER_IP_PER_HOUR": "3",
    }  # fmt: skip
    code = "from django.conf import settings as s; print(" + ", ".join(f"s.{n}" for n in names) + ")"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "web.settings.local", **names,
           "TRUSTBOARD_EXTRA_GYM_IDS": "MyEnv-v0, Other-v1"}  # fmt: skip
    out = manage("shell", "-c", code + "; print(s.TRUSTBOARD_EXTRA_GYM_IDS)", env=env)
    assert out.returncode == 0, out.stderr
    assert "7 12345 4 9 60 1 False 3\n['MyEnv-v0', 'Other-v1']\n" in out.stdout
    documented = (ROOT / "docs" / "WEB.md").read_text()
    assert all(f"`{name}`" in documented for name in [*names, "TRUSTBOARD_EXTRA_GYM_IDS"])
