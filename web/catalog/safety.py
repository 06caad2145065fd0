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
# Episodes end by this many steps at the latest: a worker's evaluation (up to 100 episodes) stays bounded. The
# longest shipped episode is 1,000 steps.
MAX_EPISODE_STEPS = 100_000


def is_allowed_gym_id(gym_id: str) -> bool:
    """An id in gymnasium's registry whose entry point is a class inside gymnasium, or one the site allows."""
    import gymnasium as gym

    if gym_id in settings.TRUSTBOARD_EXTRA_GYM_IDS:
        return True
    spec = gym.registry.get(gym_id)
    return spec is not None and isinstance(spec.entry_point, str) and spec.entry_point.startswith(IN_TREE_PREFIX)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than ``limit`` levels; iterative, so any depth that ``json.loads``
    accepts is measured without hitting Python's recursion limit (a recursive walk raised RecursionError, a 500,
    for 400 nested arrays)."""
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            if depth + 1 > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return False


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
    if _deeper_than(value, max_depth):
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
    steps = value.get("max_episode_steps")
    if steps is not None and (
        isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_EPISODE_STEPS
    ):
        raise ValueError(f"max_episode_steps must be an integer from 1 to {MAX_EPISODE_STEPS:,}.")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed: {name} is not a JSON number.")
