"""What can be trained (Environment) and how (TrainerConfig): the two axes of the leaderboard."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from web.catalog.shipped import DEFAULT_CONFIG_NAME

MAX_BUDGET_STEPS = 50_000_000
# trainer.envs.MAX_SEED, the largest seed every library accepts (the web does not import torch to read it).
MAX_EVAL_SEED = 2**32 - 1
# Slugs that a page's address already uses: /environments/new/ is the registration form, so an environment called
# "new" could be created and never be reached.
RESERVED_SLUGS = frozenset({"new"})


def validate_unreserved_slug(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(f"“{value}” is the address of a page here; choose another slug.")


class EnvironmentLockedError(RuntimeError):
    """Raised on an attempt to change the protocol of an environment that has runs."""


# What a run is trained and evaluated under: fixed once an environment has runs (EnvironmentForm, load_catalog).
PROTOCOL_FIELDS = ("gym_id", "kwargs", "budget_steps", "eval_episodes", "eval_seed", "deterministic_eval")


class Environment(models.Model):
    """A gymnasium id plus kwargs, a training budget and the evaluation protocol every run on it follows.

    ``observation_space`` and ``action_space`` are recorded when the form builds the environment, so pages can
    show them without importing gymnasium.
    """

    slug = models.SlugField(max_length=80, unique=True, validators=[validate_unreserved_slug])
    gym_id = models.CharField(max_length=120)
    kwargs = models.JSONField(default=dict, blank=True)
    budget_steps = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_BUDGET_STEPS)],
        help_text="Environment steps each run trains for.",
    )
    eval_episodes = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Episodes of the final evaluation.",
    )
    eval_seed = models.PositiveIntegerField(
        default=1000,
        validators=[MaxValueValidator(MAX_EVAL_SEED)],
        help_text="Episode i of the evaluation is reset with seed eval_seed + i.",
    )
    deterministic_eval = models.BooleanField(default=True, help_text="Evaluate with the mode of the policy.")
    random_return = models.FloatField(help_text="Mean return of a uniformly random policy (score 0).")
    reference_return = models.FloatField(help_text="Published reference return (score 1).")
    reference_source = models.CharField(
        max_length=300,
        blank=True,
        help_text="Where the reference return comes from, e.g. a published run or the episode's maximum.",
    )
    min_seeds = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Finished seeds before an entry is ranked rather than provisional.",
    )
    description = models.TextField(max_length=2000, blank=True)
    counts_overall = models.BooleanField(
        default=False,
        help_text="Counts on the overall board. Shipped environments do; a registered one only once staff include it, "
        "since anyone signed in may register an environment and the overall board ranks configs over all of them.",
    )
    shipped_values = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="The shipped values the catalog loader last wrote; empty for a registered environment. A field whose "
        "value no longer matches was edited here, and the loader keeps the edit.",
    )
    observation_space = models.CharField(max_length=500, blank=True)
    action_space = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="environments"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)  # cached pages that list environments key on it

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("catalog:environment", args=[self.slug])

    @property
    def kwargs_json(self) -> str:
        """The kwargs as the JSON a user types in the form (a dict's str() would show Python's quotes)."""
        return json.dumps(self.kwargs, sort_keys=True)

    def protocol_changes(self, values: dict[str, Any]) -> list[str]:
        """The protocol fields that ``values`` would change in the stored row (none for a new environment)."""
        stored = type(self).objects.filter(pk=self.pk).values(*PROTOCOL_FIELDS).first() if self.pk else None
        return [name for name in PROTOCOL_FIELDS if stored and name in values and values[name] != stored[name]]

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuse to change the protocol under existing runs, whatever path the change takes (form, loader, shell)."""
        if self.pk is not None:
            changed = self.protocol_changes({name: getattr(self, name) for name in PROTOCOL_FIELDS})
            if changed and self.runs.exists():
                raise EnvironmentLockedError(
                    f"{self.slug} has runs trained and evaluated under its {', '.join(changed)}; "
                    "register a new environment instead"
                )
        super().save(*args, **kwargs)

    def normalised(self, value: float) -> float:
        """Score on the random (0) to reference (1) scale."""
        span = self.reference_return - self.random_return
        return (value - self.random_return) / span if span else 0.0


class ConfigLockedError(RuntimeError):
    """Raised on an attempt to change the hyperparameters of a config version that has runs."""


class TrainerConfigQuerySet(models.QuerySet["TrainerConfig"]):
    def matching(self, text: str) -> TrainerConfigQuerySet:
        """Versions whose name or owner's username contains ``text``, ignoring case (all of them for no text): people
        look for a config by what it is called or by who made it."""
        if not text:
            return self
        return self.filter(models.Q(name__icontains=text) | models.Q(owner__username__icontains=text))

    def for_chooser(self, user_id: int | None) -> TrainerConfigQuerySet:
        """Every version, with its owner, the user's own first, then the shipped ones, then everyone else's (each
        group by name, newest version first): with hundreds of configs a user looks for their own or the default."""
        groups = [models.When(owner__isnull=True, name=DEFAULT_CONFIG_NAME, then=1)]
        if user_id is not None:
            groups.insert(0, models.When(owner_id=user_id, then=0))
        group = models.Case(*groups, default=2, output_field=models.IntegerField())
        return self.select_related("owner").alias(group=group).order_by("group", "name", "-version")


class TrainerConfig(models.Model):
    """A named, versioned TRPOConfig; ``params`` is the trainer's own ``to_dict()`` (all fields, validated).

    Once a run uses a version it never changes: results stay attached to the exact hyperparameters that produced
    them. Editing it creates the next version, linked through ``parent``.
    """

    name = models.CharField(max_length=80)
    version = models.PositiveIntegerField(default=1)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="trainer_configs"
    )
    params = models.JSONField()
    description = models.TextField(max_length=2000, blank=True)
    is_default = models.BooleanField(default=False)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TrainerConfigQuerySet.as_manager()

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="unique_config_name_version"),
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_config"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def get_absolute_url(self) -> str:
        return reverse("catalog:config", args=[self.pk])

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Refuse to change the params of a version that runs use, whoever calls save (forms, admin, scripts)."""
        if self.pk is not None and self.is_locked:
            stored = TrainerConfig.objects.filter(pk=self.pk).values_list("params", flat=True).first()
            if stored is not None and stored != self.params:
                raise ConfigLockedError(f"{self} has runs; save the change as a new version instead")
        super().save(*args, **kwargs)

    @property
    def is_shipped(self) -> bool:
        """A version of the catalog's default config, which ``load_catalog`` creates without an owner."""
        return self.owner_id is None and self.name == DEFAULT_CONFIG_NAME

    @property
    def owner_label(self) -> str:
        """Whose config this is, as lists and the submit form say it (select the owner with the rows): a config
        without an owner is a shipped one, or one whose account was deleted or that an admin saved without one."""
        if self.owner_id is not None:
            return self.owner.get_username()
        return "shipped" if self.is_shipped else "no owner"

    @property
    def menu_label(self) -> str:
        """An option of a config menu (submit, compare): many users' configs share it, so each says whose it is
        (``tiny v2 — alice``, ``trpo-default v3 — shipped, default``). Select the owner with the rows."""
        default = ", default" if self.is_default else ""
        return f"{self} — {self.owner_label}{default}"

    @property
    def is_locked(self) -> bool:
        """True once any run uses this version (then edits make a new version)."""
        return self.runs.exists()

    @property
    def params_json(self) -> str:
        """The full config as the pages show it: indented JSON with sorted keys."""
        return json.dumps(self.params, indent=2, sort_keys=True)

    def trpo_config(self) -> Any:
        """The trainer's TRPOConfig for these params (re-validated: the trainer is the one authority)."""
        from trainer import TRPOConfig

        return TRPOConfig.from_dict(self.params)

    def next_version(self) -> int:
        latest = TrainerConfig.objects.filter(name=self.name).aggregate(models.Max("version"))["version__max"]
        return (latest or 0) + 1
