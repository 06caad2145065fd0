"""JSON has no NaN or infinity: Python's json writes them as bare ``NaN``/``Infinity`` tokens, which
``JSON.parse`` and PostgreSQL's jsonb refuse. Values bound for JSON pass through :func:`finite` first."""

from __future__ import annotations

import math
from typing import Any


def finite(value: Any) -> Any:
    """``value`` with every non-finite float, at any depth of lists, tuples and dicts, replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value
