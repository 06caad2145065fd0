"""TRPOConfig: every hyperparameter of the trainer, documented and validated in one place.

The web forms, the CLI and the library all validate through :meth:`TRPOConfig.from_dict`, so a config that
one accepts, all accept. Each field carries its help text and bounds in ``dataclasses.field(metadata=...)``;
:func:`describe_fields` exposes them so a form can be generated without repeating any of it.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field
from typing import Any

ACTIVATIONS = ("tanh", "relu", "elu")
DEVICES = ("auto", "cpu", "cuda")
VECTOR_MODES = ("sync", "async")
MAX_KL_SCHEDULES = ("constant", "linear")


class ConfigError(ValueError):
    """A config value is unknown, of the wrong type or out of range; ``field`` names the culprit."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def _spec(
    default: Any,
    help: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    choices: tuple[str, ...] | None = None,
) -> Any:
    """A dataclass field whose metadata carries the help text and the valid range."""
    metadata = {
        "help": help,
        "low": low,
        "high": high,
        "low_open": low_open,
        "high_open": high_open,
        "choices": choices,
    }
    if isinstance(default, list | tuple):
        return field(default_factory=lambda: tuple(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class TRPOConfig:
    """Hyperparameters of one TRPO agent (Schulman et al., 2015).

    Defaults follow sb3-contrib's TRPO where it has an equivalent (target_kl, cg_max_steps, cg_damping,
    line_search_shrinking_factor, line_search_max_iter, gamma, gae_lambda, n_critic_updates, net_arch), so
    a config is comparable with the reference implementation.
    """

    max_kl: float = _spec(
        0.01,
        "Trust-region radius δ: the largest mean KL(π_old‖π_new) an update may take, of the whole action "
        "distribution (the paper's). sb3-contrib's target_kl averages the KL over Box action dimensions too: its δ "
        "and cg_damping λ with k action dimensions are max_kl = k·δ and cg_damping = k·λ here.",
        low=0.0,
        high=1.0,
        low_open=True,
    )
    max_kl_schedule: str = _spec(
        "constant",
        "How δ changes over a run: constant, or linear from max_kl down towards 0 (update u of n uses "
        "max_kl·(1 − (u − 1)/n), as sb3's linear schedules anneal a learning rate), so that the last updates "
        "refine the policy in small steps instead of moving it as far as the first ones.",
        choices=MAX_KL_SCHEDULES,
    )
    cg_iters: int = _spec(15, "Conjugate-gradient iterations for the natural direction F⁻¹g.", low=1, high=100)
    cg_damping: float = _spec(
        0.1, "Damping added to the Fisher-vector product (F + λI)v; keeps CG stable.", low=0.0, high=10.0
    )
    cg_residual_tol: float = _spec(
        1e-10, "Stop CG early once the squared residual falls below this.", low=0.0, high=1.0
    )
    line_search_steps: int = _spec(
        10, "Most backtracking steps the line search tries before it keeps the old policy.", low=1, high=50
    )
    line_search_shrink: float = _spec(
        0.8,
        "Factor the step shrinks by at each backtracking step.",
        low=0.0,
        high=1.0,
        low_open=True,
        high_open=True,
    )
    gamma: float = _spec(0.99, "Discount factor γ.", low=0.0, high=1.0, low_open=True)
    gae_lambda: float = _spec(0.95, "GAE λ: bias/variance trade-off of the advantage.", low=0.0, high=1.0)
    n_envs: int = _spec(1, "Parallel environments in the vector env.", low=1, high=256)
    n_steps: int = _spec(2048, "Steps per environment per update (batch = n_envs × n_steps).", low=8, high=100_000)
    hidden_sizes: tuple[int, ...] = _spec((64, 64), "Hidden layer sizes of the policy MLP.", low=1, high=4096)
    value_hidden_sizes: tuple[int, ...] = _spec((64, 64), "Hidden layer sizes of the value MLP.", low=1, high=4096)
    activation: str = _spec("tanh", "Activation of both MLPs.", choices=ACTIVATIONS)
    log_std_init: float = _spec(
        0.0,
        "Initial log standard deviation of the Gaussian policy (of gSDE's noise scales with use_sde; Box actions "
        "only).",
        low=-5.0,
        high=2.0,
    )
    use_sde: bool = _spec(
        False,
        "Generalized State-Dependent Exploration (Raffin et al. 2022): noise φ(s)·E from the last hidden "
        "features and a random matrix E held for sde_sample_freq steps, instead of independent noise per step. "
        "An exploration add-on, not part of TRPO; Box actions only (ignored for Discrete).",
    )
    sde_sample_freq: int = _spec(
        -1,
        "With use_sde: resample E every this many steps; -1 (or 0) resamples only at the start of each batch.",
        low=-1,
        high=100_000,
    )
    value_lr: float = _spec(1e-3, "Adam learning rate of the value function.", low=0.0, high=1.0, low_open=True)
    value_epochs: int = _spec(10, "Passes over the batch the value function makes per update.", low=1, high=200)
    value_minibatch_size: int = _spec(128, "Minibatch size of the value regression.", low=1, high=100_000)
    value_adam_eps: float = _spec(
        1e-8,
        "Adam's epsilon for the value function (PyTorch's default; sb3-contrib's policies use 1e-5, which "
        "config_from_sb3 sets).",
        low=0.0,
        high=1.0,
    )
    normalize_advantage: bool = _spec(True, "Normalise advantages to zero mean, unit std per batch.")
    normalize_observations: bool = _spec(
        False, "Running mean/std observation normalisation (saved with the checkpoint)."
    )
    obs_clip: float = _spec(10.0, "Clip normalised observations to ±this.", low=0.0, high=1e6, low_open=True)
    normalize_rewards: bool = _spec(
        False,
        "Divide training rewards by the running std of the discounted return (VecNormalize's norm_reward); "
        "episode returns and evaluation stay unscaled.",
    )
    reward_clip: float = _spec(10.0, "Clip scaled rewards to ±this.", low=0.0, high=1e6, low_open=True)
    normalize_every_step: bool = _spec(
        False,
        "Update the observation and reward statistics after every env step, as sb3's VecNormalize does "
        "(config_from_sb3 sets it); by default once per batch, so a batch is seen through one set of statistics.",
    )
    fisher_subsample: int = _spec(
        1, "Use every k-th sample for Fisher-vector products (1 = the whole batch).", low=1, high=100
    )
    vector_mode: str = _spec("sync", "gymnasium vector env: in-process or one process per env.", choices=VECTOR_MODES)
    device: str = _spec("auto", "Where to train: auto picks CUDA when there is one.", choices=DEVICES)
    torch_threads: int = _spec(
        1, "torch intra-op threads (0 keeps torch's default). Results depend on it.", low=0, high=256
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            # The same types from_dict accepts, for a config built directly too: TRPOConfig(n_envs=1.5) was
            # accepted and failed inside gymnasium, and hidden_sizes=[64, 64] was refused as a wrong count.
            value = _coerce(f, getattr(self, f.name))
            object.__setattr__(self, f.name, value)
            _check_value(f, value)
        if self.value_minibatch_size > self.n_envs * self.n_steps:
            raise ConfigError(
                "value_minibatch_size",
                f"must be at most the batch size n_envs × n_steps = {self.n_envs * self.n_steps}",
            )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TRPOConfig:
        """Build a config from JSON-like data; missing keys take defaults, unknown keys are refused."""
        if not isinstance(data, dict):
            raise ConfigError("config", f"must be a JSON object, not {type(data).__name__}")
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise _unknown_field(unknown[0], known)
        return cls(**data)  # __post_init__ coerces and checks each field

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (tuples become lists) that :meth:`from_dict` turns back into an equal config."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @property
    def batch_size(self) -> int:
        return self.n_envs * self.n_steps


@dataclass(frozen=True)
class FieldSpec:
    """What a form needs to render and explain one config field."""

    name: str
    kind: str  # "float" | "int" | "bool" | "choice" | "int_list"
    default: Any
    help: str
    low: float | None
    high: float | None
    low_open: bool
    high_open: bool
    choices: tuple[str, ...] | None

    @property
    def range_text(self) -> str:
        """Human text for the valid range, e.g. ``(0, 1]`` or ``one of tanh, relu``."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.low is None and self.high is None:
            return ""
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        return f"{left}{_fmt(self.low)}, {_fmt(self.high)}{right}"


def _unknown_field(name: str, known: dict[str, Any]) -> ConfigError:
    return ConfigError(name, f"unknown field; known fields are {', '.join(sorted(known))}")


def check_field(name: str, value: Any) -> Any:
    """One field's type and range, alone: its coerced value, or ConfigError naming it. The rules across fields
    (a minibatch within the batch) need the whole config: :meth:`TRPOConfig.from_dict` checks those.

    Why: a form reports every field's own mistake at once, where ``from_dict`` stops at the first.
    """
    known = {f.name: f for f in dataclasses.fields(TRPOConfig)}
    if name not in known:
        raise _unknown_field(name, known)
    coerced = _coerce(known[name], value)
    _check_value(known[name], coerced)
    return coerced


def describe_fields() -> list[FieldSpec]:
    """Every config field with its kind, default, help text and range, in declaration order."""
    specs = []
    defaults = TRPOConfig()
    for f in dataclasses.fields(TRPOConfig):
        m = f.metadata
        specs.append(
            FieldSpec(
                name=f.name,
                kind=_kind(f),
                default=getattr(defaults, f.name),
                help=m["help"],
                low=m["low"],
                high=m["high"],
                low_open=m["low_open"],
                high_open=m["high_open"],
                choices=m["choices"],
            )
        )
    return specs


def _kind(f: dataclasses.Field[Any]) -> str:
    if f.metadata["choices"]:
        return "choice"
    return {"float": "float", "int": "int", "bool": "bool", "tuple[int, ...]": "int_list"}[str(f.type)]


def _fmt(x: float | None) -> str:
    if x is None:
        return "∞"
    return f"{x:g}"


def _range_spec(f: dataclasses.Field[Any]) -> FieldSpec:
    """The field's range as a FieldSpec (default and help left out), for error messages."""
    m = f.metadata
    return FieldSpec(f.name, _kind(f), None, "", m["low"], m["high"], m["low_open"], m["high_open"], m["choices"])


def _range_of(f: dataclasses.Field[Any]) -> str:
    """`` in [1, 100]`` for a numeric field, empty otherwise."""
    text = _range_spec(f).range_text
    return f" in {text}" if text and not f.metadata["choices"] else ""


def as_float(name: str, value: int | float, allowed: str = "") -> float:
    """``float(value)``, or a ConfigError: JSON integers have no size limit, and ``float()`` of one past ~1.8e308
    raises OverflowError, which callers catching ConfigError and ValueError would let through."""
    try:
        return float(value)
    except OverflowError:
        bits = value.bit_length() if isinstance(value, int) else "too many"
        raise ConfigError(name, f"must be a number{allowed}, not an integer of {bits} bits") from None


def _coerce(f: dataclasses.Field[Any], value: Any) -> Any:
    """Accept JSON's types only: ints for floats are fine, but bools are not numbers and strings are not lists.

    Even a wrong type gets the allowed range in its message, so one error tells the user what to write.
    """
    kind = _kind(f)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f.name, f"must be true or false, not {value!r}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(f.name, f"must be an integer{_range_of(f)}, not {value!r}")
        return int(value)  # NumPy integers too
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f.name, f"must be a number{_range_of(f)}, not {value!r}")
        return as_float(f.name, value, _range_of(f))
    if kind == "choice":
        if not isinstance(value, str):
            raise ConfigError(f.name, f"must be one of {', '.join(f.metadata['choices'])}, not {value!r}")
        return value
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value
    ):
        raise ConfigError(f.name, f"must be a list of integers, each{_range_of(f)}, not {value!r}")
    return tuple(int(v) for v in value)


def _check_value(f: dataclasses.Field[Any], value: Any) -> None:
    """Raise ConfigError naming the field and its allowed range when ``value`` is outside it."""
    m = f.metadata
    kind = _kind(f)
    if kind == "choice":
        if value not in m["choices"]:
            raise ConfigError(f.name, f"must be one of {', '.join(m['choices'])}, not {value!r}")
        return
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f.name, f"must be true or false, not {value!r}")
        return
    if kind == "int_list":
        if not isinstance(value, tuple) or not 1 <= len(value) <= 8:
            raise ConfigError(f.name, "must list between 1 and 8 layer sizes")
        for v in value:
            _check_number(f, v)
        return
    _check_number(f, value)


def _check_number(f: dataclasses.Field[Any], value: Any) -> None:
    m = f.metadata
    spec = _range_spec(f)
    # isnan only on floats: math.isnan(10**400) raises OverflowError (a 500 found by the web form fuzz).
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and math.isnan(value))
    ):
        raise ConfigError(f.name, f"must be a number in {spec.range_text}, not {value!r}")
    low, high = m["low"], m["high"]
    too_low = low is not None and (value <= low if m["low_open"] else value < low)
    too_high = high is not None and (value >= high if m["high_open"] else value > high)
    if too_low or too_high:
        raise ConfigError(f.name, f"must be in {spec.range_text}, got {value!r}")
