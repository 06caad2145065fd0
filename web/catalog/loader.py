"""Load the shipped catalog, the default config and the demo account; idempotent, so it can run at every start."""

from __future__ import annotations

import logging
from dataclasses import asdict

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


@transaction.atomic
def load_environments() -> list[Environment]:
    """Create or overwrite every shipped environment with the values in ``shipped.py``.

    Overwriting is what keeps a database loaded before ``reference_source`` was a field clean: the loader used to
    append "Reference return (score 1) X: <source>." to the description, and rewriting the description from
    ``shipped.py`` at the next start drops that sentence while the source moves to its own field.
    """
    loaded = []
    for item in SHIPPED:
        fields = asdict(item)
        slug = fields.pop("slug")
        env, _ = Environment.objects.update_or_create(
            slug=slug, defaults={**fields, **_spaces(item.gym_id, item.kwargs)}
        )
        loaded.append(env)
    return loaded


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
