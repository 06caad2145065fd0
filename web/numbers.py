"""How the site prints each kind of number: one rule per quantity (docs/LEADERBOARD.md, "How numbers are shown").

Templates use the filters below (``{% load numbers %}``: ``ret``, ``norm``, ``prob``, ``rate``, ``seconds``,
``steps``, ``sig3``); chart builders use the matching d3-format strings (``D3_*``) as Plotly hover formats, so a
return reads ``1,234.6`` in a table, a tooltip and a chart's hover label alike. Only what people read is rounded:
stored values, the API and the CSV/JSON exports keep full precision. Everything that is not a finite number
(None, NaN, infinity) prints as an em dash.
"""

from __future__ import annotations

import math
from typing import Any

from django import template

register = template.Library()

MISSING = "—"

# One spec for a table cell (Python's format()) and a chart's hover label (d3-format): they agree on the fixed-point
# specs; on .3g d3 keeps trailing zeros (0.0100 where Python prints 0.01).
D3_RETURN = ",.1f"
D3_NORMALISED = ".2f"
D3_PROBABILITY = ".2f"
D3_STEPS = ",.0f"
D3_SIG3 = ".3g"


def _finite(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _fixed(value: Any, spec: str) -> str:
    number = _finite(value)
    if number is None:
        return MISSING
    text = format(number, spec)
    # -0.04 rounds to "-0.0": a sign on zero reads as a real difference.
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


@register.filter
def ret(value: Any) -> str:
    """An episode return (a board's score, its interval's bounds, IQM, AUC, a run's final return and its spread, the
    random and reference returns): one decimal, thousands grouped. ``1234.5678`` → ``1,234.6``."""
    return _fixed(value, D3_RETURN)


@register.filter
def norm(value: Any) -> str:
    """A normalised score (random = 0, reference = 1: the overall board's IQM and its interval): two decimals."""
    return _fixed(value, D3_NORMALISED)


@register.filter
def prob(value: Any) -> str:
    """A probability (P(beats default), P(A beats B) and their intervals): two decimals. ``0.7312`` → ``0.73``."""
    return _fixed(value, D3_PROBABILITY)


@register.filter
def rate(value: Any) -> str:
    """Steps per second: a whole number, thousands grouped. ``1234.6`` → ``1,235``."""
    return _fixed(value, D3_STEPS)


@register.filter
def seconds(value: Any) -> str:
    """Wall-clock seconds: whole seconds, thousands grouped. ``3601.7`` → ``3,602``."""
    return _fixed(value, D3_STEPS)


@register.filter
def steps(value: Any) -> str:
    """A count of environment steps (budgets, progress): a whole number, thousands grouped."""
    return _fixed(value, D3_STEPS)


@register.filter
def sig3(value: Any) -> str:
    """A diagnostic spanning orders of magnitude (KL, δ = max_kl, entropy): three significant digits."""
    number = _finite(value)
    return MISSING if number is None else format(number, D3_SIG3)


def returns_list(values: Any) -> str:
    """Several returns (a run's evaluation episodes), each as :func:`ret`, separated by semicolons: a comma would
    read as a thousands separator (``1,234.6; 1,200.0``)."""
    return "; ".join(ret(v) for v in values or [])
