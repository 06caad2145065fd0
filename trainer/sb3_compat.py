"""sb3-contrib / rl-baselines3-zoo TRPO hyperparameters as a TRPOConfig.

Most published TRPO settings are written in sb3-contrib's names (rl-baselines3-zoo's ``hyperparams/trpo.yml``), and
copying them field by field is a trap: for Box actions sb3-contrib's KL is torch's per-dimension Normal KL averaged
over the batch *and* the k action dimensions, so its ``target_kl`` δ bounds KL/k and its ``cg_damping`` λ is added
to the Fisher of KL/k. This trainer bounds the joint KL (the paper's), so the same trust region and the same CG
system are ``max_kl`` = k·δ and ``cg_damping`` = k·λ. Copied as they are, the region is k times narrower (six times
on HalfCheetah), which cost about a third of HalfCheetah's return at 200k steps in BENCHMARKS.md.

An omitted key means sb3-contrib's default, not ours, so a translated config is the run sb3-contrib would make.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trainer.config import ACTIVATIONS, ConfigError, TRPOConfig, as_float
from trainer.envs import env_space_info
from trainer.zoo_entry import zoo_expression

# sb3-contrib's TRPO defaults (sb3_contrib/trpo/trpo.py, policies: net_arch 64-64 tanh, log_std_init 0), in its names.
SB3_TRPO_DEFAULTS: dict[str, Any] = {
    "learning_rate": 0.001,
    "n_steps": 2048,
    "batch_size": 128,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "cg_max_steps": 15,
    "cg_damping": 0.1,
    "line_search_shrinking_factor": 0.8,
    "line_search_max_iter": 10,
    "n_critic_updates": 10,
    "normalize_advantage": True,
    "target_kl": 0.01,
    "sub_sampling_factor": 1,
    "use_sde": False,
    "sde_sample_freq": -1,
}

# The Adam epsilon sb3's ActorCriticPolicy gives its optimizer (which fits sb3-contrib's value function).
SB3_ADAM_EPS = 1e-5

# sb3-contrib (or rl-zoo) name -> TRPOConfig field, for the keys that mean the same in both.
SB3_TO_TRPOCONFIG: dict[str, str] = {
    "learning_rate": "value_lr",
    "n_steps": "n_steps",
    "n_envs": "n_envs",
    "batch_size": "value_minibatch_size",
    "gamma": "gamma",
    "gae_lambda": "gae_lambda",
    "cg_max_steps": "cg_iters",
    "line_search_shrinking_factor": "line_search_shrink",
    "line_search_max_iter": "line_search_steps",
    "n_critic_updates": "value_epochs",
    "normalize_advantage": "normalize_advantage",
    "sub_sampling_factor": "fisher_subsample",
    "use_sde": "use_sde",
    "sde_sample_freq": "sde_sample_freq",
}
# Scaled by the number of action dimensions (see the module docstring).
PER_ACTION_DIMENSION = {"target_kl": "max_kl", "cg_damping": "cg_damping"}
# rl-zoo keys that describe the experiment rather than the agent: accepted and left to the caller.
NOT_AGENT_SETTINGS = ("n_timesteps",)
# Far above any budget rl-zoo uses (1e7 for Atari), and small enough to print and compare with any environment's.
MAX_ZOO_TIMESTEPS = 10**12
# rl-zoo keys that change the environment or the training loop, which a config here cannot carry.
ZOO_EXPERIMENT_SETTINGS = ("env_wrapper", "vec_env_wrapper", "frame_stack", "callback")
# VecNormalize's defaults (rl-zoo's ``normalize: true`` is VecNormalize(norm_obs=True, norm_reward=True)).
_VECNORMALIZE_KEYS = {"norm_obs": "normalize_observations", "norm_reward": "normalize_rewards"}
_VECNORMALIZE_CLIPS = {"clip_obs": "obs_clip", "clip_reward": "reward_clip"}


def action_dimensions(env_id: str, env_kwargs: dict[str, Any] | None = None) -> int:
    """k for the KL mapping: a Box action space's size, 1 for Discrete (a Categorical's KL is one number in both)."""
    space = env_space_info(env_id, env_kwargs)
    return 1 if space.discrete else space.act_dim


def config_from_sb3(hyperparams: Mapping[str, Any], action_dims: int, **overrides: Any) -> TRPOConfig:
    """The TRPOConfig that makes the run sb3-contrib's TRPO makes with ``hyperparams`` (its names, rl-zoo's keys).

    ``action_dims`` is k (``action_dimensions(env_id)``); ``overrides`` are TRPOConfig fields set last (device,
    torch_threads, …). Unknown or unsupported keys raise ConfigError naming the key; the values are then checked by
    ``TRPOConfig.from_dict`` with its ranges.
    """
    if isinstance(action_dims, bool) or not isinstance(action_dims, int) or action_dims < 1:
        raise ConfigError("action_dims", f"must be a positive integer (1 for Discrete), got {action_dims!r}")
    params = {**SB3_TRPO_DEFAULTS, **hyperparams}
    fields: dict[str, Any] = {
        "hidden_sizes": [64, 64],
        "value_hidden_sizes": [64, 64],
        "activation": "tanh",
        "log_std_init": 0.0,
        "normalize_observations": False,
        "normalize_rewards": False,
        "n_envs": 1,
        "value_adam_eps": SB3_ADAM_EPS,
    }
    for key, value in params.items():
        if key in SB3_TO_TRPOCONFIG:
            fields[SB3_TO_TRPOCONFIG[key]] = value
        elif key in PER_ACTION_DIMENSION:
            fields[PER_ACTION_DIMENSION[key]] = _scaled(key, value, action_dims)
        elif key == "normalize":
            fields.update(_normalize_fields(_read_expression(key, value)))
        elif key == "policy_kwargs":
            fields.update(_policy_fields(_read_expression(key, value)))
        elif key == "policy":
            if value != "MlpPolicy":
                raise ConfigError("policy", f"only MlpPolicy has an equivalent here, got {value!r}")
        elif key in ZOO_EXPERIMENT_SETTINGS:
            raise ConfigError(key, "changes rl-zoo's environment or training loop, which a config here cannot carry")
        elif key == "n_timesteps":
            _check_budget(key, value)
        elif key not in NOT_AGENT_SETTINGS:
            raise ConfigError(key, "is not an sb3-contrib TRPO or rl-zoo setting this trainer can translate")
        if isinstance(value, str) and value.startswith("lin_"):
            raise ConfigError(key, f"rl-zoo's linear schedule {value!r} has no equivalent here: give a number")
    fields.update(overrides)
    try:
        return TRPOConfig.from_dict(fields)
    except ConfigError as exc:
        raise ConfigError(_named_as_given(exc.field, hyperparams), exc.message) from None


def _named_as_given(field: str, hyperparams: Mapping[str, Any]) -> str:
    """A TRPOConfig field named as the entry named it too (``target_kl → max_kl``), so the user finds their key."""
    given = [key for key, ours in {**SB3_TO_TRPOCONFIG, **PER_ACTION_DIMENSION}.items() if ours == field]
    return f"{given[0]} → {field}" if given and given[0] in hyperparams and given[0] != field else field


def _read_expression(key: str, value: Any) -> Any:
    """rl-zoo writes ``policy_kwargs`` and ``normalize`` as Python expressions in strings: read them as literals."""
    return zoo_expression(key, value) if isinstance(value, str) else value


def _check_budget(key: str, value: Any) -> None:
    """rl-zoo's training budget is left to the caller, but it must be one: a whole number of steps (``1e6`` or
    ``!!float 1e6`` as rl-zoo writes it), not NaN, an infinity or a number no run could take."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(key, f"must be a number of environment steps, got {value!r}")
    if not (1 <= value <= MAX_ZOO_TIMESTEPS and float(value).is_integer()):  # NaN and infinities fail the range
        shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:20]}… ({len(repr(value))} characters)"
        raise ConfigError(key, f"must be a whole number of steps from 1 to {MAX_ZOO_TIMESTEPS:.0e}, got {shown}")


def _scaled(key: str, value: Any, action_dims: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(key, f"must be a number, got {value!r}")
    # Rounded to 12 digits: 0.1 × 6 is 0.6000000000000001 in floats, and a config shows what a person would type.
    return float(f"{as_float(key, value) * action_dims:.12g}")


def _normalize_fields(value: Any) -> dict[str, Any]:
    """rl-zoo's ``normalize``: true (obs and reward), false, or VecNormalize's keyword arguments.

    VecNormalize updates its statistics after every env step, hence ``normalize_every_step``.
    """
    if isinstance(value, bool):
        return {"normalize_observations": value, "normalize_rewards": value, "normalize_every_step": value}
    if not isinstance(value, Mapping):
        raise ConfigError("normalize", f"must be true, false or a mapping of VecNormalize arguments, got {value!r}")
    out = {"normalize_observations": True, "normalize_rewards": True, "normalize_every_step": True}
    for key, item in value.items():
        if key in _VECNORMALIZE_KEYS:
            out[_VECNORMALIZE_KEYS[key]] = item
        elif key in _VECNORMALIZE_CLIPS:
            out[_VECNORMALIZE_CLIPS[key]] = item
        elif key != "gamma":  # VecNormalize's return discount: rl-zoo sets the algorithm's γ, as this trainer does
            raise ConfigError(f"normalize.{key}", "is not a VecNormalize argument this trainer has")
    return out


def _policy_fields(value: Any) -> dict[str, Any]:
    """sb3's policy_kwargs: net_arch (a list, or pi/vf), activation_fn, log_std_init; the rest must be sb3's default."""
    if not isinstance(value, Mapping):
        raise ConfigError("policy_kwargs", f"must be a mapping, got {value!r}")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "net_arch":
            out.update(_net_arch_fields(item))
        elif key == "activation_fn":
            name = str(item).rsplit(".", 1)[-1].lower().removesuffix("'>")  # "nn.ReLU" or the class itself
            if name not in ACTIVATIONS:
                raise ConfigError("policy_kwargs.activation_fn", f"one of nn.Tanh, nn.ReLU, nn.ELU, got {item!r}")
            out["activation"] = name
        elif key == "log_std_init":
            out["log_std_init"] = item
        elif key in ("ortho_init", "full_std") and item is True:
            pass  # what this trainer always does
        elif key in ("squash_output", "use_expln") and item is False:
            pass
        else:
            raise ConfigError(f"policy_kwargs.{key}", f"{item!r} has no equivalent in this trainer")
    return out


def _net_arch_fields(value: Any) -> dict[str, Any]:
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], Mapping):
        value = value[0]  # sb3 < 1.8 wrote [dict(pi=..., vf=...)]
    if isinstance(value, Mapping):
        if set(value) != {"pi", "vf"} or not all(isinstance(v, list) for v in value.values()):
            raise ConfigError("policy_kwargs.net_arch", f"a list of sizes or dict(pi=[...], vf=[...]), got {value!r}")
        return {"hidden_sizes": list(value["pi"]), "value_hidden_sizes": list(value["vf"])}
    if isinstance(value, list):
        return {"hidden_sizes": list(value), "value_hidden_sizes": list(value)}
    raise ConfigError("policy_kwargs.net_arch", f"a list of sizes or dict(pi=[...], vf=[...]), got {value!r}")
