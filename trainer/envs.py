"""Building gymnasium environments safely, and describing their spaces.

Only ids registered in gymnasium's registry are accepted: an id of the form ``module:Class`` would make
gymnasium import arbitrary code, so it is refused before gymnasium sees it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

_ID_PATTERN = re.compile(r"^[A-Za-z0-9_./-]{1,120}$")
MAX_KWARGS_BYTES = 4096


@dataclass(frozen=True)
class SpaceInfo:
    """What the networks need to know about an environment's spaces (and what a checkpoint records)."""

    obs_dim: int
    discrete: bool
    act_dim: int  # number of actions for Discrete, action dimensions for Box
    act_low: tuple[float, ...] | None = None
    act_high: tuple[float, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "obs_dim": self.obs_dim,
            "discrete": self.discrete,
            "act_dim": self.act_dim,
            "act_low": list(self.act_low) if self.act_low is not None else None,
            "act_high": list(self.act_high) if self.act_high is not None else None,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SpaceInfo:
        low, high = d.get("act_low"), d.get("act_high")
        return cls(
            obs_dim=int(d["obs_dim"]),
            discrete=bool(d["discrete"]),
            act_dim=int(d["act_dim"]),
            act_low=tuple(low) if low is not None else None,
            act_high=tuple(high) if high is not None else None,
        )


def validate_env_id(env_id: str) -> None:
    """Refuse anything but a plain registered id: no import paths, no unknown names."""
    if not isinstance(env_id, str) or not _ID_PATTERN.match(env_id):
        raise ValueError(f"{env_id!r} is not a valid gymnasium id (letters, digits, '-', '_', '/', '.' only)")
    if env_id not in gym.registry:
        raise ValueError(f"{env_id!r} is not registered in gymnasium on this worker")


def validate_env_kwargs(env_kwargs: Any) -> dict[str, Any]:
    """Kwargs must be a small JSON object: plain data only, never code."""
    if env_kwargs is None:
        return {}
    if not isinstance(env_kwargs, dict):
        raise ValueError("environment kwargs must be a JSON object")
    try:
        encoded = json.dumps(env_kwargs, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"environment kwargs must be plain JSON: {exc}") from exc
    if len(encoded) > MAX_KWARGS_BYTES:
        raise ValueError(f"environment kwargs must be at most {MAX_KWARGS_BYTES} bytes of JSON")
    return dict(env_kwargs)


def make_env(env_id: str, env_kwargs: dict[str, Any] | None = None, **extra: Any) -> gym.Env:
    """One validated environment (used by evaluation and rendering)."""
    validate_env_id(env_id)
    kwargs = validate_env_kwargs(env_kwargs)
    return gym.make(env_id, **kwargs, **extra)


def make_vector_env(
    env_id: str, env_kwargs: dict[str, Any] | None, n_envs: int, mode: str = "sync"
) -> gym.vector.VectorEnv:
    """A vector env with SAME_STEP autoreset, so every step is a real transition.

    In gymnasium 1.x the default (NEXT_STEP) autoreset spends one step per episode on a reset whose action is
    ignored; SAME_STEP instead returns the reset observation at once and the true last observation in
    ``info["final_obs"]``, which is what truncation bootstrapping needs.
    """
    validate_env_id(env_id)
    kwargs = validate_env_kwargs(env_kwargs)
    return gym.make_vec(
        env_id,
        num_envs=n_envs,
        vectorization_mode=mode,
        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
        **kwargs,
    )


def space_info(observation_space: gym.Space, action_space: gym.Space) -> SpaceInfo:
    """Check the spaces are ones TRPO here supports, and describe them."""
    if not isinstance(observation_space, gym.spaces.Box) or len(observation_space.shape) != 1:
        raise ValueError(f"observation space must be a flat Box, got {observation_space}")
    obs_dim = int(observation_space.shape[0])
    if isinstance(action_space, gym.spaces.Discrete):
        return SpaceInfo(obs_dim=obs_dim, discrete=True, act_dim=int(action_space.n))
    if isinstance(action_space, gym.spaces.Box) and len(action_space.shape) == 1:
        return SpaceInfo(
            obs_dim=obs_dim,
            discrete=False,
            act_dim=int(action_space.shape[0]),
            act_low=tuple(float(x) for x in action_space.low),
            act_high=tuple(float(x) for x in action_space.high),
        )
    raise ValueError(f"action space must be Discrete or a flat Box, got {action_space}")


def _make_env_for_user(env_id: str, env_kwargs: dict[str, Any] | None) -> gym.Env:
    """make_env, with gymnasium's many exception types for bad kwargs turned into one ValueError a user can read."""
    validate_env_id(env_id)
    kwargs = validate_env_kwargs(env_kwargs)
    try:
        return gym.make(env_id, **kwargs)
    except Exception as exc:  # gymnasium raises many types for bad kwargs
        raise ValueError(f"gymnasium could not build {env_id} with these kwargs: {exc}") from exc


def env_space_info(env_id: str, env_kwargs: dict[str, Any] | None = None) -> SpaceInfo:
    """The spaces of an environment, checked as ``space_info`` does; ValueError with a readable message otherwise."""
    env = _make_env_for_user(env_id, env_kwargs)
    try:
        return space_info(env.observation_space, env.action_space)
    finally:
        env.close()


def make_env_check(env_id: str, env_kwargs: dict[str, Any] | None = None) -> dict[str, str]:
    """Build the environment once to prove it works here; return its spaces as text for a form to show.

    Raises ValueError with a message a user can act on when gymnasium refuses the id or the kwargs.
    """
    env = _make_env_for_user(env_id, env_kwargs)
    try:
        space_info(env.observation_space, env.action_space)
        obs, _ = env.reset(seed=0)
        if not np.all(np.isfinite(obs)):
            raise ValueError(f"{env_id} returned a non-finite first observation")
        return {"observation_space": str(env.observation_space), "action_space": str(env.action_space)}
    finally:
        env.close()
