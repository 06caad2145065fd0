"""Whole-page caching for anonymous visitors, keyed by the version of the data the page shows.

Why: most leaderboard traffic is anonymous, and for them a page is the same bytes for everyone until the board
changes. Keys carry the board's version (``Board.updated_at``), so a refresh makes new keys and nothing needs
invalidating. A visitor with a session or pending messages gets a freshly rendered page (their navigation,
CSRF tokens and messages differ), still built from the cached board fragment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

PAGE_SECONDS = 3600


def digest(*parts: object) -> str:
    """A short stable digest of values for a cache key (same in every process, safe for any backend)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def is_anonymous_visit(request: HttpRequest) -> bool:
    """No session and no messages cookie: nothing on the page can depend on who is asking."""
    return settings.SESSION_COOKIE_NAME not in request.COOKIES and "messages" not in request.COOKIES


def cached_page(request: HttpRequest, key: str, render: Callable[[], HttpResponse]) -> HttpResponse:
    """Serve ``key`` from the cache for anonymous visits; otherwise, or on a miss, call ``render``."""
    if not is_anonymous_visit(request):
        return render()
    body = cache.get(f"lb:page:{key}")
    if body is not None:
        return HttpResponse(body)
    response = render()
    if response.status_code == 200 and not response.cookies:
        cache.set(f"lb:page:{key}", response.content, PAGE_SECONDS)
    return response
