"""Load the shipped catalog, the default config and the demo account; idempotent, so it can run at every start."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from web.catalog.models import PROTOCOL_FIELDS, Environment, TrainerConfig
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


def shipped_digest(values: dict[str, Any]) -> str:
    """A digest of an environment's catalog values, the same for the values shipped and as the database returns them.

    Each value goes through its model field's ``to_python`` first, so a shipped ``18`` and a stored ``18.0`` agree.
    """
    typed = {name: Environment._meta.get_field(name).to_python(value) for name, value in values.items()}
    return hashlib.sha256(json.dumps(typed, sort_keys=True, default=str).encode()).hexdigest()


def _edited_here(env: Environment, shipped: dict[str, Any]) -> bool:
    """Whether a person changed this row since the loader last wrote it (or registered it under a shipped slug)."""
    if not env.shipped_digest:
        # No digest: a shipped row from before the field (rewritten once), or a person's registration.
        return env.created_by_id is not None
    return shipped_digest({name: getattr(env, name) for name in shipped}) != env.shipped_digest


def _protocol_differs_under_runs(env: Environment, shipped: dict[str, Any]) -> bool:
    """Whether writing ``shipped`` would change how this environment's existing runs were trained or evaluated."""
    current = {name: getattr(env, name) for name in PROTOCOL_FIELDS}
    wanted = {name: shipped[name] for name in PROTOCOL_FIELDS}
    return shipped_digest(current) != shipped_digest(wanted) and env.runs.exists()


@dataclass
class CatalogLoad:
    """What :func:`load_environments` did: every shipped environment, and the slugs it left as they were."""

    environments: list[Environment]
    kept_edits: list[str]  # edited here
    kept_protocols: list[str]  # with runs under a protocol the shipped values would change


@transaction.atomic
def load_environments(reset_edits: bool = False) -> CatalogLoad:
    """Create every shipped environment, or bring it up to date with ``shipped.py``, unless it was edited here.

    An environment remembers the digest of the shipped values last written to it (``shipped_digest``). If its
    values still match that digest, nobody edited it, and the loader writes today's shipped values (a new
    reference number reaches every database at its next start). If they no longer match, an admin edited it: the
    loader keeps the edit (it runs at every start, and must not undo a person's change) and reports the slug;
    ``reset_edits`` writes the shipped values anyway. An environment a person registered under a shipped slug is
    kept the same way, and so is one with runs whose protocol (``PROTOCOL_FIELDS``) the shipped values would change,
    even with ``reset_edits``: its runs were trained under the protocol it has. A shipped row from before the digest
    existed has none and is overwritten once, which also drops the "Reference return (score 1) X: <source>." sentence
    older loaders appended to the description.
    """
    loaded, kept, kept_protocol = [], [], []
    for item in SHIPPED:
        values = asdict(item)
        slug = values.pop("slug")
        digest = shipped_digest(values)
        env = Environment.objects.filter(slug=slug).first()
        if env is not None and _protocol_differs_under_runs(env, values):
            log.warning("kept %s as it is: it has runs, and the shipped values change its protocol", slug)
            loaded.append(env)
            kept_protocol.append(slug)
            continue
        if env is not None and not reset_edits:
            if _edited_here(env, values):
                log.warning("kept the local edit of %s; `load_catalog --reset-edits` restores the shipped values", slug)
                loaded.append(env)
                kept.append(slug)
                continue
            if env.shipped_digest == digest and env.observation_space:
                loaded.append(env)  # up to date: nothing to write, no environment to build
                continue
        fields = {**values, **_spaces(item.gym_id, item.kwargs), "shipped_digest": digest}
        env, _ = Environment.objects.update_or_create(slug=slug, defaults=fields)
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
        TrainerConfig.objects.filter(is_default=True).update(is_default=False)
        TrainerConfig.objects.filter(pk=match.pk).update(is_default=True)
        match.is_default = True
    return match


def ensure_demo_user(password: str) -> AbstractBaseUser:
    """The demo account the README prints; its password is reset to ``password`` on every load."""
    user, _ = get_user_model().objects.get_or_create(username=DEMO_USERNAME)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user
