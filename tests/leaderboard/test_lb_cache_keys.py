"""Everything the leaderboard caches while it renders is keyed as rendered output, so a deploy never serves it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.urls import reverse

from web.cachekeys import RENDERED_PREFIX


def test_every_key_a_page_caches_carries_the_release(client, board, monkeypatch: pytest.MonkeyPatch) -> None:
    """Entry figures were cached under ``leaderboard:entry:…`` for a day: after a deploy the re-rendered entry
    page drew the previous release's charts."""
    keys: list[str] = []
    for method in ("set", "add", "get_or_set", "set_many"):
        original = getattr(cache, method)

        def recording(key: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            keys.extend(key if isinstance(key, dict) else [key])
            return _original(key, *args, **kwargs)

        monkeypatch.setattr(cache, method, recording)

    env, strong, close = board["env"], board["strong"], board["close"]
    pages = [
        reverse("leaderboard:home"),
        reverse("leaderboard:environment", args=[env.slug]),
        reverse("leaderboard:entry", args=[env.slug, strong.pk]),
        f"{reverse('leaderboard:compare')}?a={strong.pk}&b={close.pk}",
        reverse("leaderboard:overall_export", args=["json"]),
        f"/api/leaderboards/{env.slug}/",
        "/api/runs/",
    ]
    for url in pages:
        assert client.get(url).status_code == 200, url
    assert keys, "the pages cached nothing: the test would prove nothing"
    assert [k for k in keys if not k.startswith(RENDERED_PREFIX)] == []
