"""Typed readers for environment variables that fail loudly.

A misspelt boolean or a missing secret must stop the process at start-up with the variable's name, not surface
later as a subtle misbehaviour, so every helper raises ImproperlyConfigured on anything it cannot parse.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_MISSING = object()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str, default: object) -> str | None:
    value = os.environ.get(name)
    if value is not None:
        return value
    if default is _MISSING:
        raise ImproperlyConfigured(f"Set the environment variable {name}.")
    return None


def env_str(name: str, default: str | object = _MISSING) -> str:
    """A string; with no default the variable is required."""
    value = _raw(name, default)
    return value if value is not None else str(default)


def env_bool(name: str, default: bool) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off`` (any case); anything else is an error, not False."""
    value = _raw(name, default)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use true or false.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """An integer, optionally bounded below."""
    value = _raw(name, default)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    """A float, optionally bounded below."""
    value = _raw(name, default)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}.")
    return number


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    """Comma-separated values, blanks dropped; with no default the variable is required."""
    value = _raw(name, _MISSING if default is None else default)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, *, min_length: int = 50) -> str:
    """A required secret: no default exists, and a short or placeholder value is refused."""
    value = env_str(name)
    # The same bar as Django's own deploy check (security.W009), so a value that starts also passes it.
    if len(value) < min_length or len(set(value)) < 5 or value.startswith(("change-me", "django-insecure")):
        raise ImproperlyConfigured(f"{name} must be a random secret of at least {min_length} characters.")
    return value
