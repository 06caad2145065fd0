"""What a registered environment may ask gymnasium to do: allowed ids, and plain-data kwargs.

Why: an environment row becomes ``gym.make(gym_id, **kwargs)`` on every worker. An id of the form
``module:Class`` imports arbitrary code; an id registered by a compatibility package (``GymV26Environment-v0``
takes ``env_id``/``make_kwargs``) builds whatever its kwargs name; a MuJoCo ``xml_file`` makes the worker read
any file it can. So only ids implemented inside gymnasium itself (plus ``TRUSTBOARD_EXTRA_GYM_IDS``) are
accepted, and kwargs are a small, shallow JSON object whose keys name no files, modules or wrappers.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings

MAX_KWARGS_CHARS = 4096
MAX_KWARGS_DEPTH = 4
IN_TREE_PREFIX = "gymnasium.envs."
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
DENIED_KEYS = frozenset({
    "render_mode", "env", "env_id", "entry_point", "make_kwargs", "wrappers", "additional_wrappers",
    "apply_api_compatibility", "disable_env_checker", "vector_kwargs", "vectorization_mode",
})  # fmt: skip
DENIED_FRAGMENTS = ("file", "path", "dir", "module", "class", "import")


def is_allowed_gym_id(gym_id: str) -> bool:
    """An id in gymnasium's registry whose entry point is a class inside gymnasium, or one the site allows."""
    import gymnasium as gym

    if gym_id in getattr(settings, "TRUSTBOARD_EXTRA_GYM_IDS", ()):
        return True
    spec = gym.registry.get(gym_id)
    return spec is not None and isinstance(spec.entry_point, str) and spec.entry_point.startswith(IN_TREE_PREFIX)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def parse_json_object(raw: str, max_depth: int, example: str) -> dict[str, Any]:
    """A small, shallow JSON object typed by a user, or ValueError with a message they can act on."""
    if len(raw) > MAX_KWARGS_CHARS:
        raise ValueError(f"At most {MAX_KWARGS_CHARS} characters.")
    try:
        # parse_constant refuses NaN/Infinity, which are not JSON and which no setting here needs.
        value = json.loads(raw, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
    except RecursionError:
        raise ValueError(f"Nested too deeply (at most {max_depth} levels).") from None
    if not isinstance(value, dict):
        raise ValueError(f"Must be a JSON object such as {example}.")
    if _depth(value) > max_depth:
        raise ValueError(f"Nested too deeply (at most {max_depth} levels).")
    return value


def parse_kwargs(raw: str) -> dict[str, Any]:
    """The kwargs text as a dict, or ValueError with a message a user can act on."""
    value = parse_json_object(raw, MAX_KWARGS_DEPTH, '{} or {"max_episode_steps": 200}')
    for key in value:
        if not _KEY.match(key):
            raise ValueError(f"{key[:80]!r} is not a keyword argument name (lower case letters, digits, _).")
        if key in DENIED_KEYS or any(fragment in key for fragment in DENIED_FRAGMENTS):
            raise ValueError(f"{key!r} is not allowed: kwargs may not name files, modules, wrappers or rendering.")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed: {name} is not a JSON number.")
