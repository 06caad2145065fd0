"""Saving configs: versions are immutable once a run uses them, so an edit may create a new row."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from web.catalog.models import TrainerConfig


def create_config(owner: AbstractBaseUser, name: str, description: str, params: dict[str, Any]) -> TrainerConfig:
    return TrainerConfig.objects.create(owner=owner, name=name, description=description, params=params)


@transaction.atomic
def edit_config(config: TrainerConfig, description: str, params: dict[str, Any]) -> TrainerConfig:
    """Change an unused version in place; a used one stays as it is and the edit becomes the next version."""
    locked = TrainerConfig.objects.select_for_update().get(pk=config.pk)
    if not locked.is_locked:
        locked.description, locked.params = description, params
        locked.save(update_fields=["description", "params"])
        return locked
    return TrainerConfig.objects.create(
        owner=locked.owner,
        name=locked.name,
        version=locked.next_version(),
        description=description,
        params=params,
        parent=locked,
    )
