"""Reading one rl-baselines3-zoo ``trpo.yml`` entry (YAML or JSON) as plain data, without running any of it.

People copy TRPO settings from rl-zoo's YAML files, so that is the format to accept as it is written there::

    Walker2d-v3:
      normalize: true
      n_timesteps: !!float 1e6
      learning_rate: !!float 1e-3
      policy_kwargs: "dict(log_std_init=-2, net_arch=dict(pi=[256, 256], vf=[256, 256]), activation_fn=nn.ReLU)"

rl-zoo ``eval``s strings such as ``policy_kwargs``; a pasted entry comes from a stranger, so here they are read by
a parser that knows only literals, ``dict(...)`` with keyword arguments and dotted names (``nn.ReLU`` stays the
string ``"nn.ReLU"``): nothing is called, imported or looked up. YAML is read with PyYAML's safe loader, without
aliases (a few lines of ``&a``/``*a`` can stand for billions of nodes), and numbers such as ``1e-3`` are read as
YAML 1.2 and JSON read them (PyYAML's YAML 1.1 rules make them strings).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from trainer.config import ConfigError

MAX_EXPRESSION_CHARS = 2000
MAX_DEPTH = 8  # an entry is {env: {policy_kwargs: {net_arch: {pi: [..]}}}}: five levels, with room to spare
# A trpo.yml key naming an environment (CartPole-v1, ALE/Pong-v5, my_pkg:MyEnv-v0) rather than a setting.
_ENV_ID = re.compile(r"^[\w.:/-]+-v\d+$")
# Exponent floats as YAML 1.2 and JSON read them: PyYAML's 1.1 rule wants a dot, so 1e-3 would be the string "1e-3".
_FLOAT_12 = re.compile(r"^[-+]?(?:\d+\.\d*|\.\d+|\d+)[eE][-+]?\d+$")


@dataclass(frozen=True)
class ZooEntry:
    """The settings of one entry, and the environment id they were filed under when the text named one."""

    env_id: str | None
    hyperparams: dict[str, Any]


def parse_zoo_entry(text: str) -> ZooEntry:
    """``text`` as one entry: its settings (sb3-contrib's names), bare or under their env id as in ``trpo.yml``.

    Raises ConfigError naming what is wrong: not YAML or JSON, not a mapping, several environments' entries, an
    alias. Expression strings stay strings here; ``config_from_sb3`` reads them with :func:`zoo_expression`.
    """
    data = _load(text)
    if not isinstance(data, dict):
        raise ConfigError("entry", "must be a mapping of sb3-contrib settings, e.g. {n_envs: 2, target_kl: 0.04}")
    _check_depth(data)
    env_id = None
    entries = [key for key, value in data.items() if isinstance(value, dict) and _ENV_ID.match(str(key))]
    if entries and len(entries) == len(data):
        if len(entries) > 1:
            names = ", ".join(str(key) for key in entries[:5]) + (", …" if len(entries) > 5 else "")
            raise ConfigError("entry", f"holds {len(entries)} environments' entries ({names}): paste one of them")
        env_id = str(entries[0])
        data = data[entries[0]]
    for key in data:
        if not isinstance(key, str):
            raise ConfigError("entry", f"setting names are words, got {key!r}")
    return ZooEntry(env_id, dict(data))


def zoo_expression(key: str, text: str) -> Any:
    """The value of an rl-zoo expression string such as ``dict(net_arch=[64, 64], activation_fn=nn.Tanh)``.

    Only literals, lists, tuples (as lists), dicts with literal keys, ``dict(name=value, ...)`` and dotted names
    (returned as their text) are understood; anything else is refused with the part that was not understood.
    """
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ConfigError(key, f"at most {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ConfigError(key, f"{text[:80]!r} is not a Python literal or dict(...) expression") from None
    return _literal(key, tree.body, 0)


def _literal(key: str, node: ast.AST, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ConfigError(key, f"nested more than {MAX_DEPTH} levels")
    if isinstance(node, ast.Constant) and isinstance(node.value, bool | int | float | str | type(None)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _literal(key, node.operand, depth + 1)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, f"a sign goes before a number, got {ast.unparse(node)[:80]!r}")
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(key, item, depth + 1) for item in node.elts]
    if isinstance(node, ast.Dict):
        out: dict[str, Any] = {}
        for k, v in zip(node.keys, node.values, strict=True):
            name = None if k is None else _literal(key, k, depth + 1)
            if not isinstance(name, str):
                raise ConfigError(key, f"dict keys must be quoted names, got {ast.unparse(node)[:80]!r}")
            out[name] = _literal(key, v, depth + 1)
        return out
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args:
        if any(kw.arg is None for kw in node.keywords):
            raise ConfigError(key, "dict(**...) is not accepted: write the keyword arguments out")
        return {str(kw.arg): _literal(key, kw.value, depth + 1) for kw in node.keywords}
    dotted = _dotted_name(node)
    if dotted is not None:
        return dotted  # nn.ReLU, th.nn.Tanh: a name the translation matches as text, never looked up
    raise ConfigError(
        key, f"{ast.unparse(node)[:80]!r} is not understood: only literals, dict(...) and names such as nn.ReLU"
    )


def _dotted_name(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


class _EntryLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases, with YAML 1.2's floats."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise ConfigError(
                "entry",
                f"aliases (*{event.anchor}, line {event.start_mark.line + 1}) are not accepted: write the values out",
            )
        return super().compose_node(parent, index)


_EntryLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))


def _load(text: str) -> Any:
    """JSON when it is JSON (no NaN or Infinity), otherwise YAML."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except _NotANumber as exc:
        raise ConfigError("entry", str(exc)) from None
    except (ValueError, RecursionError):
        pass  # not JSON: YAML, or an error YAML's parser explains with a line and column
    try:
        return yaml.load(text, Loader=_EntryLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ConfigError("entry", f"is neither JSON nor YAML: {exc.problem}{where}") from None
    except (yaml.YAMLError, RecursionError):
        raise ConfigError("entry", "is neither JSON nor YAML") from None


class _NotANumber(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotANumber(f"{name} is not a number any setting accepts")


def _check_depth(value: Any, depth: int = 1) -> None:
    if depth > MAX_DEPTH:
        raise ConfigError("entry", f"nested more than {MAX_DEPTH} levels")
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        _check_depth(child, depth + 1)
