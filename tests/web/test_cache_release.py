"""Rendered output cached under one release is not served by the next one; log-in counts survive a deploy."""

from __future__ import annotations

import pytest
from django.core.cache import cache

import web.cachekeys
from web.release import code_version


def _as_release(monkeypatch: pytest.MonkeyPatch, release: str) -> None:
    monkeypatch.setattr(web.cachekeys, "running_release", lambda: release)


def test_a_new_release_does_not_see_the_old_ones_rendered_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    _as_release(monkeypatch, "aaa111")
    cache.set("lb:page:home", b"old bytes")
    assert cache.get("lb:page:home") == b"old bytes"

    _as_release(monkeypatch, "bbb222")
    assert cache.get("lb:page:home") is None, "a deploy must not serve pages its predecessor rendered"


def test_state_that_is_not_rendered_output_survives_a_release(monkeypatch: pytest.MonkeyPatch) -> None:
    _as_release(monkeypatch, "aaa111")
    cache.set("ratelimit:login:demo", 4)
    _as_release(monkeypatch, "bbb222")
    assert cache.get("ratelimit:login:demo") == 4, "a deploy must not reset log-in lockouts"


def test_the_release_is_the_configured_code_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTBOARD_CODE_VERSION", "0123abcd")
    assert code_version() == "0123abcd"


def test_without_a_known_commit_the_release_follows_the_source_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path, settings
) -> None:
    """An image built without CODE_VERSION has no .git either: every deploy was release "unknown", one cache."""
    from web import release

    (tmp_path / "web").mkdir()
    page = tmp_path / "web" / "page.html"
    page.write_text("<p>old</p>")
    settings.BASE_DIR = tmp_path
    monkeypatch.setenv("TRUSTBOARD_CODE_VERSION", "")
    assert release.code_version() == "unknown"
    release.running_release.cache_clear()
    before = release.running_release()
    page.write_text("<p>new</p>")
    release.running_release.cache_clear()
    after = release.running_release()
    release.running_release.cache_clear()
    assert before.startswith("src-") and after.startswith("src-") and before != after
