"""A valid POST for the config form, shared by the web and reliability tests (importable by name: pytest puts
``tests/`` on the path for its root conftest)."""

from __future__ import annotations

from typing import Any

from trainer import describe_fields


def config_form_data(**overrides: Any) -> dict[str, Any]:
    """A complete, valid POST for the config form (the trainer's defaults), with overrides; ``None`` drops a key."""
    data: dict[str, Any] = {"name": "my-config", "description": ""}
    for spec in describe_fields():
        value = spec.default
        if spec.kind == "int_list":
            value = ", ".join(str(v) for v in value)
        elif spec.kind == "bool":
            if not value:
                continue  # an unchecked box is absent from a POST
            value = "on"
        data[spec.name] = value
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data
