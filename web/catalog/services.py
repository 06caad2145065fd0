"""Saving configs: versions are immutable once a run uses them, so an edit may create a new row."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from web.catalog.models import TrainerConfig

NAME_TAKEN = "A config with this name exists; pick another or edit that one."


class ConfigNameTaken(Exception):
    """Another request created a config of this name between the form's check and our insert."""


class ConfigGone(Exception):
    """The config was deleted (in another tab, by another request) between loading the page and this action."""

    def __init__(self, config: TrainerConfig) -> None:
        super().__init__(f"{config} no longer exists: it was deleted in the meantime.")


def create_config(owner: AbstractBaseUser, name: str, description: str, params: dict[str, Any]) -> TrainerConfig:
    """Insert version 1 of a new name. The form checked the name is free, but two requests can pass that check at
    once (a double click on Save): the unique (name, version) constraint decides, and the loser gets the config the
    winner made when it is the same one (same owner, description and params), else :class:`ConfigNameTaken`."""
    try:
        with transaction.atomic():
            return TrainerConfig.objects.create(owner=owner, name=name, description=description, params=params)
    except IntegrityError:
        twin = TrainerConfig.objects.filter(name=name, version=1, owner=owner, description=description).first()
        if twin is not None and twin.params == params:
            return twin
        raise ConfigNameTaken(NAME_TAKEN) from None


def _lock(config: TrainerConfig) -> TrainerConfig:
    """The config's row, locked until the transaction ends; :class:`ConfigGone` if it was deleted meanwhile."""
    locked = TrainerConfig.objects.select_for_update().filter(pk=config.pk).first()
    if locked is None:
        raise ConfigGone(config)
    return locked


@transaction.atomic
def edit_config(config: TrainerConfig, description: str, params: dict[str, Any]) -> TrainerConfig:
    """Change an unused version in place; a used one stays as it is and the edit becomes the next version.

    Every version of the name is locked (in id order, so two edits cannot deadlock), not only the edited one: two
    edits of different used versions of one name both numbered their new version max + 1 (a unique-constraint 500).
    """
    versions = list(TrainerConfig.objects.select_for_update().filter(name=config.name).order_by("pk"))
    locked = next((v for v in versions if v.pk == config.pk), None)
    if locked is None:
        raise ConfigGone(config)
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
    locked = _lock(config)
    if locked.is_default:
        raise ConfigNotDeletable(f"{locked} is the default config; it cannot be deleted.")
    if locked.is_locked:
        raise ConfigNotDeletable(f"{locked} has runs, so it stays (their results depend on it).")
    try:
        with transaction.atomic():
            locked.delete()
    except ProtectedError as exc:
        raise ConfigNotDeletable(f"{locked} has runs, so it stays (their results depend on it).") from exc
