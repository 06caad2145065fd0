"""Cache keys: rendered output is keyed on the release that rendered it.

The leaderboard caches whole pages, fragments, charts and API answers (keys starting ``lb:``) for up to an hour,
keyed on the data they show. A deploy that changes a template or a number's format left visitors on the old
bytes until those entries expired, since the data had not changed. Every ``lb:`` key now carries the running
release, so a new release starts from fresh keys. Other keys (log-in and sign-up counts) are state, not output,
and survive a deploy.
"""

from __future__ import annotations

from django.core.cache.backends.base import default_key_func

from web.release import running_release

RENDERED_PREFIX = "lb:"


def make_key(key: str, key_prefix: str, version: int) -> str:
    """Django's ``KEY_FUNCTION``: the default key, with the release appended to keys of rendered output."""
    if key.startswith(RENDERED_PREFIX):
        key = f"{key}@{running_release()}"
    return default_key_func(key, key_prefix, version)
