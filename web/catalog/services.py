"""Saving configs: versions are immutable once a run uses them, so an edit may create a new row."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import ProtectedError

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
    # The same edit sent twice (a double click, a resubmitted form) is one new version, not two identical ones: the
    # row lock above makes the second wait for the first and find its version here.
    for child in locked.children.filter(owner=locked.owner, description=description).order_by("version"):
        if child.params == params:
            return child
    return TrainerConfig.objects.create(
        owner=locked.owner,
        name=locked.name,
        version=locked.next_version(),
        description=description,
        params=params,
        parent=locked,
    )


class ConfigNotDeletable(Exception):
    """A config that runs use (or the site's default) stays: results must keep their hyperparameters."""


@transaction.atomic
def delete_config(config: TrainerConfig) -> None:
    """Delete a config version no run uses; a used one (or the default) raises :class:`ConfigNotDeletable`.

    The row lock plus ``Run.config``'s PROTECT make this safe against a run being submitted at the same moment.
    """
    locked = TrainerConfig.objects.select_for_update().get(pk=config.pk)
    if locked.is_default:
        raise ConfigNotDeletable(f"{locked} is the default config; it cannot be deleted.")
    if locked.is_locked:
        raise ConfigNotDeletable(f"{locked} has runs, so it stays (their results depend on it).")
    try:
        with transaction.atomic():
            locked.delete()
    except ProtectedError as exc:
        raise ConfigNotDeletable(f"{locked} has runs, so it stays (their results depend on it).") from exc
