"""Forms for registering environments and TRPO configs; the trainer is the one validator of both.

Environments are checked by building them with ``trainer.make_env_check`` (only ids in gymnasium's registry,
never ``module:Class`` import paths, which would run arbitrary code on the workers). Configs are generated
from ``trainer.describe_fields()`` and validated by ``TRPOConfig.from_dict``: help text, defaults and ranges
live in the trainer only.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from web.catalog import safety
from web.catalog.models import Environment, TrainerConfig
from web.catalog.services import NAME_TAKEN

MAX_KWARGS_CHARS = safety.MAX_KWARGS_CHARS
# Returns of real tasks are far inside these; beyond them normalised scores overflow or lose all precision.
MAX_RETURN_MAGNITUDE = 1e9
MIN_SCORE_SPAN = 1e-6


class EnvironmentForm(forms.ModelForm):
    kwargs = forms.CharField(
        required=False,
        max_length=MAX_KWARGS_CHARS,
        initial="{}",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text='Keyword arguments for gymnasium.make, as a JSON object, e.g. {"max_episode_steps": 200}.',
    )

    class Meta:
        model = Environment
        fields = [
            "slug", "gym_id", "kwargs", "budget_steps", "eval_episodes", "eval_seed", "deterministic_eval",
            "random_return", "reference_return", "reference_source", "min_seeds", "description",
        ]  # fmt: skip
        help_texts = {
            "slug": "Short unique name used in URLs, e.g. cartpole-short.",
            "gym_id": "A gymnasium id registered on the workers, e.g. CartPole-v1. Import paths are refused.",
            "random_return": (
                "Score 0: the mean episode return of uniformly random actions under this protocol (play a few hundred "
                "random episodes with env.action_space.sample(); CartPole-v1 gives about 22, Pendulum-v1 about -1,200)."
            ),
            "reference_return": (
                "Score 1, above the random return: a published result at this budget (e.g. rl-baselines3-zoo's "
                "benchmark) or the task's maximum (CartPole-v1: 500). Say where it comes from below."
            ),
            "min_seeds": "Finished seeds before an entry is ranked rather than provisional (the shipped boards use 3).",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        given = kwargs.get("initial") or {}
        super().__init__(*args, **kwargs)
        for name in ("budget_steps", "eval_episodes", "eval_seed", "min_seeds"):
            _bound_by_model(self.fields[name], Environment._meta.get_field(name))
        # The field is text: an edit page must show the stored dict as JSON (str() would give Python's quotes,
        # which the same form then refuses as invalid JSON).
        if self.instance.pk is not None and "kwargs" not in given:
            self.initial["kwargs"] = json.dumps(self.instance.kwargs)

    def clean_gym_id(self) -> str:
        gym_id = self.cleaned_data["gym_id"].strip()
        if ":" in gym_id:
            raise forms.ValidationError(
                "Import paths (module:Class) are not allowed; use an id registered in gymnasium, e.g. CartPole-v1."
            )
        import gymnasium as gym

        if gym_id not in gym.registry:
            raise forms.ValidationError(f"{gym_id!r} is not a registered gymnasium environment on this server.")
        if not safety.is_allowed_gym_id(gym_id):
            raise forms.ValidationError(
                f"{gym_id!r} is not on this site's allow-list (environments implemented in gymnasium itself)."
            )
        return gym_id

    def clean_kwargs(self) -> dict[str, Any]:
        raw = (self.cleaned_data.get("kwargs") or "").strip() or "{}"
        try:
            return safety.parse_kwargs(raw)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        gym_id, kwargs = cleaned.get("gym_id"), cleaned.get("kwargs")
        if gym_id and kwargs is not None:
            from trainer import make_env_check

            try:
                spaces = make_env_check(gym_id, kwargs)
            except ValueError as exc:
                self.add_error("kwargs" if kwargs else "gym_id", str(exc))
            else:
                self.instance.observation_space = spaces["observation_space"][:500]
                self.instance.action_space = spaces["action_space"][:500]
        self._refuse_protocol_changes_under_runs()
        self._check_score_scale(cleaned.get("random_return"), cleaned.get("reference_return"))
        return cleaned

    def _check_score_scale(self, random: float | None, reference: float | None) -> None:
        """The scale normalises every score of this environment: it must be finite, and not so narrow that any
        score becomes a huge normalised number."""
        for name, value in (("random_return", random), ("reference_return", reference)):
            if value is not None and not abs(value) <= MAX_RETURN_MAGNITUDE:
                self.add_error(name, f"Must be between -{MAX_RETURN_MAGNITUDE:g} and {MAX_RETURN_MAGNITUDE:g}.")
        if random is None or reference is None or self.has_error("random_return") or self.has_error("reference_return"):
            return
        if reference - random < MIN_SCORE_SPAN:
            # Every board ranks higher returns first; a reference below the random return would turn the normalised
            # scores, and so the overall board, upside down against the environment's own board.
            self.add_error(
                "reference_return",
                f"Must be above the random return by at least {MIN_SCORE_SPAN:g} (the two define the score scale, "
                "and higher returns rank first).",
            )

    def _refuse_protocol_changes_under_runs(self) -> None:
        """An admin may correct an environment's scale, seeds or text at any time, but not how its runs ran."""
        env = self.instance
        if env.pk is None:
            return
        n_runs = env.runs.count()
        if not n_runs:
            return
        for name in env.protocol_changes(self.cleaned_data):
            self.add_error(
                name,
                f"{env.slug} has {n_runs} run(s) trained and evaluated with {name} = {getattr(env, name)!r}; "
                "changing it would put runs under two protocols on one board. Register a new environment instead.",
            )


def _bound_by_model(field: Any, model_field: Any) -> None:
    """Give a number field the model's own range, so ``-1`` is told the real minimum (a positive integer column's
    form field says "at least 0", and the model's "at least 1" was only heard for 0) and the input's min/max agree."""
    # The model's own bounds and the database's integer range (PostgreSQL's is narrower than SQLite's): the tightest.
    lows = [v.limit_value for v in model_field.validators if isinstance(v, MinValueValidator)]
    highs = [v.limit_value for v in model_field.validators if isinstance(v, MaxValueValidator)]
    field.min_value = max(lows, default=field.min_value)
    field.max_value = min(highs, default=field.max_value)
    field.validators = [v for v in field.validators if not isinstance(v, MinValueValidator | MaxValueValidator)]
    if field.min_value is not None:
        field.validators.append(MinValueValidator(field.min_value))
    if field.max_value is not None:
        field.validators.append(MaxValueValidator(field.max_value))
    field.widget.attrs.update(field.widget_attrs(field.widget))


def _parse_int_list(text: str) -> list[int]:
    """Sizes separated by commas, spaces or both (``64, 64``, ``64 64``): each run of digits is one layer, never two
    runs joined into one (``32 32`` was read as one layer of 3,232)."""
    try:
        return [int(part) for part in re.split(r"[,\s]+", text.strip()) if part]
    except ValueError:
        raise forms.ValidationError("Enter whole numbers separated by commas, e.g. 64, 64.") from None


class IntListField(forms.CharField):
    """``64, 64`` ↔ ``[64, 64]``; the trainer checks the sizes and the count."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[int]:
        text = super().to_python(value)
        return _parse_int_list(text)


def _field_for(spec: Any) -> forms.Field:
    label = spec.name.replace("_", " ")
    help_text = spec.help + (f" Range: {spec.range_text}." if spec.range_text else "")
    common: dict[str, Any] = {"label": label, "help_text": help_text, "initial": spec.default}
    if spec.kind == "float":
        return forms.FloatField(widget=forms.NumberInput(attrs={"step": "any"}), **common)
    if spec.kind == "int":
        return forms.IntegerField(**common)
    if spec.kind == "bool":
        return forms.BooleanField(required=False, **common)
    if spec.kind == "choice":
        return forms.ChoiceField(choices=[(c, c) for c in spec.choices], **common)
    return IntListField(max_length=100, **common)


# How the config form groups the trainer's fields: (title, open by default, field names in the trainer's order).
CONFIG_SECTIONS: list[tuple[str, bool, list[str]]] = [
    ("Trust region", True, ["max_kl", "max_kl_schedule", "cg_iters", "cg_damping", "cg_residual_tol",
                            "line_search_steps", "line_search_shrink", "fisher_subsample"]),
    ("Batch and advantages", True, ["gamma", "gae_lambda", "n_envs", "n_steps", "normalize_advantage"]),
    ("Policy network", True, ["hidden_sizes", "activation", "log_std_init", "use_sde", "sde_sample_freq"]),
    ("Value function", False, ["value_hidden_sizes", "value_lr", "value_epochs", "value_minibatch_size",
                               "value_adam_eps"]),
    ("Normalisation", False, ["normalize_observations", "obs_clip", "normalize_rewards", "reward_clip",
                              "normalize_every_step"]),
    ("System", False, ["vector_mode", "device", "torch_threads"]),
]  # fmt: skip


class TrainerConfigForm(forms.Form):
    """Name and description, then one field per TRPOConfig field, in the trainer's order."""

    name = forms.SlugField(max_length=80, help_text="Letters, digits, - and _; versions share the name.")
    description = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, instance: TrainerConfig | None = None, **kwargs: Any) -> None:
        from trainer import describe_fields

        self.instance = instance
        self.specs = describe_fields()
        super().__init__(*args, **kwargs)
        for spec in self.specs:
            self.fields[spec.name] = _field_for(spec)
        if instance is not None:
            self.fields["name"].disabled = True
            self.initial.setdefault("name", instance.name)
            self.initial.setdefault("description", instance.description)
            for key, value in instance.params.items():
                self.initial.setdefault(key, value)

    @property
    def param_fields(self) -> list[forms.BoundField]:
        return [self[spec.name] for spec in self.specs]

    @property
    def identity_fields(self) -> list[forms.BoundField]:
        return [self["name"], self["description"]]

    @property
    def sections(self) -> list[tuple[str, bool, list[forms.BoundField]]]:
        """The trainer's fields in sections (title, open?, fields): 35 fields in one column were a 3,700 px page.
        The less often changed sections start folded unless one of their fields has an error; a field the trainer
        gains later lands in "Other" until it is placed."""
        names = [spec.name for spec in self.specs]
        placed = {name for _, _, fields in CONFIG_SECTIONS for name in fields}
        out = []
        for title, open_by_default, fields in [
            *CONFIG_SECTIONS,
            ("Other", True, [n for n in names if n not in placed]),
        ]:
            bound = [self[name] for name in fields if name in self.fields]
            if bound:
                out.append((title, open_by_default or any(b.errors for b in bound), bound))
        return out

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if self.instance is None and TrainerConfig.objects.filter(name=name).exists():
            raise forms.ValidationError(NAME_TAKEN)
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        from trainer import ConfigError, TRPOConfig
        from trainer.config import check_field

        if any(spec.name in self.errors for spec in self.specs):
            return cleaned
        # Each field's own type and range first, all at once: from_dict stops at the first bad field, so a form
        # with three mistakes took three rounds to fix. The rules across fields (a minibatch larger than the
        # batch) follow on the whole config.
        for spec in self.specs:
            try:
                check_field(spec.name, cleaned[spec.name])
            except ConfigError as exc:
                self.add_error(spec.name, exc.message)
        if any(spec.name in self.errors for spec in self.specs):
            return cleaned
        try:
            config = TRPOConfig.from_dict({spec.name: cleaned[spec.name] for spec in self.specs})
        except ConfigError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        else:
            cleaned["params"] = config.to_dict()
        return cleaned


class Sb3ImportForm(forms.Form):
    """An sb3-contrib / rl-zoo TRPO entry for one environment, translated by ``trainer.sb3_compat``.

    Why an environment: sb3-contrib's target_kl and cg_damping average the KL over Box action dimensions, so the
    same entry is a different TRPOConfig for HalfCheetah (6 dimensions) than for Hopper (3). Nothing is saved here:
    the result prefills the ordinary config form, which the user reviews and saves.
    """

    environment = forms.ModelChoiceField(
        Environment.objects.all(),
        to_field_name="slug",
        help_text="Its action dimensions scale target_kl and cg_damping.",
    )
    hyperparams = forms.CharField(
        label="sb3-contrib settings (YAML or JSON)",
        max_length=MAX_KWARGS_CHARS,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        help_text="An rl-zoo trpo.yml entry as it is written there (under its env id or bare), or the same as JSON.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        from trainer import ConfigError
        from trainer.sb3_compat import action_dimensions, config_from_sb3
        from trainer.zoo_entry import parse_zoo_entry

        environment, raw = cleaned.get("environment"), cleaned.get("hyperparams")
        if environment is None or raw is None:
            return cleaned
        try:
            entry = parse_zoo_entry(raw)
            cleaned["entry"] = entry
            cleaned["action_dims"] = action_dimensions(environment.gym_id, environment.kwargs)
            cleaned["params"] = config_from_sb3(entry.hyperparams, cleaned["action_dims"]).to_dict()
        except ConfigError as exc:
            self.add_error("hyperparams", f"{exc.field}: {exc.message}")
        except ValueError as exc:
            self.add_error("environment", str(exc))
        return cleaned
