"""Load the shipped catalog, the default config and the demo account; idempotent, so it can run at every start."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from web.catalog.models import Environment, TrainerConfig
from web.catalog.shipped import (
    DEFAULT_CONFIG_DESCRIPTION,
    DEFAULT_CONFIG_NAME,
    DEMO_USERNAME,
    SHIPPED,
)

log = logging.getLogger(__name__)


def _spaces(gym_id: str, kwargs: dict) -> dict[str, str]:
    """The spaces as text; a machine without MuJoCo still loads the catalog, with the spaces left blank."""
    from trainer import make_env_check

    try:
        return make_env_check(gym_id, kwargs)
    except ValueError as exc:
        log.warning("cannot build %s here (%s); its spaces stay blank", gym_id, exc)
        return {"observation_space": "", "action_space": ""}


def _edited_fields(env: Environment) -> list[str]:
    """The fields a person changed since the loader last wrote this row (or all, for a person's registration).

    Compared field by field with the values the loader wrote (``shipped_values``), so a field that a later release
    adds to the catalog, or removes from it, counts as no edit. Values come back from the same JSON and model
    fields they were written through, and ``==`` holds between a shipped ``18`` and a stored ``18.0``.
    """
    if not env.shipped_values:
        # Nothing written by a loader that records its values: a shipped row from before the field (rewritten
        # once), or a person's registration under a shipped slug (kept).
        return ["(registered here)"] if env.created_by_id is not None else []
    model_fields = {f.name for f in Environment._meta.get_fields()}
    return [name for name, value in env.shipped_values.items() if name in model_fields and getattr(env, name) != value]


def _protocol_changes_under_runs(env: Environment, shipped: dict[str, Any]) -> list[str]:
    """The protocol fields that writing ``shipped`` would change under this environment's existing runs."""
    changed = env.protocol_changes(shipped)
    return changed if changed and env.runs.exists() else []


@dataclass
class CatalogLoad:
    """What :func:`load_environments` did: every shipped environment, and the slugs it did not fully update."""

    environments: list[Environment]
    kept_edits: list[str]  # edited here (or registered here under a shipped slug): left as they are
    kept_protocols: list[str]  # updated, except a protocol their runs were trained under


@transaction.atomic
def load_environments(reset_edits: bool = False) -> CatalogLoad:
    """Create every shipped environment, or bring it up to date with ``shipped.py``, unless a person edited it.

    An environment remembers the shipped values last written to it (``shipped_values``). If its fields still hold
    them, nobody edited it, and the loader writes today's shipped values (a corrected reference reaches every
    database at its next start). If a field no longer does, an admin edited it: the loader keeps the row as it is
    (it runs at every start, and must not undo a person's change) and reports the slug; ``reset_edits`` writes the
    shipped values over such rows. An environment a person registered under a shipped slug is always kept.
    Whatever is written, the protocol (``PROTOCOL_FIELDS``) of an environment with runs stays as its runs had it,
    and the slug is reported. A shipped row from before ``shipped_values`` existed has none and is rewritten once,
    which also drops the "Reference return (score 1) X: <source>." sentence older loaders appended to the
    description (and any admin edit made before this field: it could not be told apart).
    """
    loaded, kept, kept_protocol = [], [], []
    for item in SHIPPED:
        values = asdict(item)
        slug = values.pop("slug")
        env = Environment.objects.filter(slug=slug).first()
        if env is None:
            env = Environment.objects.create(
                slug=slug, **values, **_spaces(item.gym_id, item.kwargs), shipped_values=values
            )
            loaded.append(env)
            continue
        edited = _edited_fields(env)
        if edited and (not reset_edits or not env.shipped_values):
            log.warning("kept the local edit of %s (%s); `--reset-edits` restores the shipped values", slug, edited)
            loaded.append(env)
            kept.append(slug)
            continue
        held = _protocol_changes_under_runs(env, values)
        if held:
            log.warning("%s keeps its %s: it has runs trained under them", slug, ", ".join(held))
            values = {**values, **{name: getattr(env, name) for name in held}}
            kept_protocol.append(slug)
        if env.shipped_values == values and not edited:
            if not env.observation_space:  # built here for the first time: spaces only, no edit of the board
                Environment.objects.filter(pk=env.pk).update(**_spaces(env.gym_id, env.kwargs))
            loaded.append(env)  # up to date: nothing to write
            continue
        for name, value in {**values, **_spaces(values["gym_id"], values["kwargs"])}.items():
            setattr(env, name, value)
        env.shipped_values = values
        env.save()
        loaded.append(env)
    return CatalogLoad(loaded, kept, kept_protocol)


@transaction.atomic
def load_default_config() -> TrainerConfig:
    """The trainer's defaults as ``trpo-default``; when the trainer's defaults change, a new version becomes default.

    A version saved before the trainer gained a field lacks that key; it still matches when every key it has
    holds today's default (a new field's default keeps the old behaviour), so a new field makes no new version.
    """
    from trainer import TRPOConfig

    params = TRPOConfig().to_dict()
    versions = list(TrainerConfig.objects.filter(name=DEFAULT_CONFIG_NAME).order_by("-version"))
    match = next((c for c in versions if {**params, **c.params} == params), None)
    if match is None:
        match = TrainerConfig.objects.create(
            name=DEFAULT_CONFIG_NAME,
            version=versions[0].version + 1 if versions else 1,
            params=params,
            description=DEFAULT_CONFIG_DESCRIPTION,
            parent=versions[0] if versions else None,
        )
    if not match.is_default:
        # Saved, not update()d: the overall board's P(beats default) is against the default, and its save signal
        # has the board rebuilt (with update() a restart that restored the default left every P against the old).
        for previous in TrainerConfig.objects.filter(is_default=True):
            previous.is_default = False
            previous.save(update_fields=["is_default"])
        match.is_default = True
        match.save(update_fields=["is_default"])
    return match


def ensure_demo_user(password: str) -> AbstractBaseUser:
    """The demo account the README prints; its password is reset to ``password`` on every load."""
    user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user
