"""Building gymnasium environments safely, and describing their spaces.

Only ids registered in gymnasium's registry are accepted: an id of the form ``module:Class`` would make
gymnasium import arbitrary code, so it is refused before gymnasium sees it.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

T = TypeVar("T")

_ID_PATTERN = re.compile(r"^[A-Za-z0-9_./-]{1,120}$")
MAX_KWARGS_BYTES = 4096
# Keyword arguments the trainer sets itself: ``render_mode`` is "rgb_array" for a GIF and unset otherwise (a
# "human" window on a worker, or a second render_mode when playing a checkpoint, would fail far from the input).
RESERVED_KWARGS = ("render_mode",)


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
    def from_dict(cls, d: Any) -> SpaceInfo:
        """Read :meth:`to_dict`'s output back, strictly: it comes from a file anyone may have edited, and a wrong
        type here (``"false"`` read as True, bounds of another length) would only fail, or not, far later."""
        if not isinstance(d, dict):
            raise ValueError("space must be a JSON object")
        for name in ("obs_dim", "act_dim"):
            if type(d.get(name)) is not int or not 1 <= d[name] <= 1_000_000:
                raise ValueError(f"space.{name} must be an integer from 1 to 1,000,000, got {d.get(name)!r}")
        if type(d.get("discrete")) is not bool:
            raise ValueError(f"space.discrete must be true or false, got {d.get('discrete')!r}")
        bounds = {name: d.get(name) for name in ("act_low", "act_high")}
        if d["discrete"]:
            if any(v is not None for v in bounds.values()):
                raise ValueError("space.act_low and space.act_high must be null for a discrete action space")
            return cls(obs_dim=d["obs_dim"], discrete=True, act_dim=d["act_dim"])
        for name, values in bounds.items():
            if (
                not isinstance(values, list)
                or len(values) != d["act_dim"]
                or not all(type(v) in (int, float) for v in values)
            ):
                raise ValueError(f"space.{name} must be a list of {d['act_dim']} numbers (one per action dimension)")
        return cls(
            obs_dim=d["obs_dim"],
            discrete=False,
            act_dim=d["act_dim"],
            act_low=tuple(float(v) for v in bounds["act_low"]),  # type: ignore[union-attr]
            act_high=tuple(float(v) for v in bounds["act_high"]),  # type: ignore[union-attr]
        )


# Seeds go to gymnasium's reset (non-negative), NumPy and torch.manual_seed (at most 64 bits); evaluation adds the
# episode index to its seed. 2**32 - 1 leaves room for all of them.
MAX_SEED = 2**32 - 1


def check_seed(seed: int, what: str = "seed") -> None:
    """A seed every library here accepts; ValueError naming ``what`` otherwise."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"{what} must be an integer from 0 to {MAX_SEED:,}, got {seed!r}")


class EnvNotRegistered(ValueError):
    """A well-formed id this process's gymnasium does not know (a package or plugin missing from this install)."""


def validate_env_id(env_id: str) -> None:
    """Refuse anything but a plain registered id: no import paths, no unknown names."""
    if not isinstance(env_id, str) or not _ID_PATTERN.match(env_id):
        raise ValueError(f"{env_id!r} is not a valid gymnasium id (letters, digits, '-', '_', '/', '.' only)")
    if env_id not in gym.registry:
        close = difflib.get_close_matches(env_id, list(gym.registry), n=3)
        advice = (
            f"did you mean {' or '.join(repr(c) for c in close)}?"
            if close
            else "install the package that registers it, or check the spelling and version suffix"
        )
        raise EnvNotRegistered(f"{env_id!r} is not registered in gymnasium on this machine: {advice}")


def validate_env_kwargs(env_kwargs: Any) -> dict[str, Any]:
    """Kwargs must be a small JSON object: plain data only, never code."""
    if env_kwargs is None:
        return {}
    if not isinstance(env_kwargs, dict):
        raise ValueError("environment kwargs must be a JSON object")
    reserved = sorted(set(env_kwargs) & set(RESERVED_KWARGS))
    if reserved:
        raise ValueError(f"environment kwargs must not set {', '.join(reserved)}: the trainer sets it itself")
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
    return _built(env_id, lambda: gym.make(env_id, **kwargs, **extra))


def _built(env_id: str, build: Callable[[], T]) -> T:
    """``build()``, with the many exception types gymnasium raises for bad kwargs or a missing dependency (TypeError,
    DependencyNotInstalled, ...) turned into one ValueError that names the environment."""
    try:
        return build()
    except (OSError, MemoryError):
        raise  # the machine's trouble (no memory, no file descriptors for async workers), not the kwargs'
    except Exception as exc:
        raise ValueError(f"gymnasium could not build {env_id} with these kwargs: {exc}") from exc


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
    return _built(
        env_id,
        lambda: gym.make_vec(
            env_id,
            num_envs=n_envs,
            vectorization_mode=mode,
            vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
            **kwargs,
        ),
    )


def space_info(observation_space: gym.Space, action_space: gym.Space) -> SpaceInfo:
    """Check the spaces are ones TRPO here supports, and describe them."""
    if not isinstance(observation_space, gym.spaces.Box) or len(observation_space.shape) != 1:
        raise ValueError(f"observation space must be a flat Box, got {observation_space}")
    obs_dim = int(observation_space.shape[0])
    if isinstance(action_space, gym.spaces.Discrete):
        if int(action_space.start) != 0:
            # The policy's actions are indices 0..n-1: with another start they would be outside the space, or the
            # wrong actions, without any error.
            raise ValueError(
                f"Discrete action spaces must start at 0, got {action_space}: wrap the environment in a "
                "gymnasium.ActionWrapper that adds the start to the action"
            )
        return SpaceInfo(obs_dim=obs_dim, discrete=True, act_dim=int(action_space.n))
    if isinstance(action_space, gym.spaces.Box) and len(action_space.shape) == 1:
        if not np.issubdtype(action_space.dtype, np.floating):
            # A Gaussian policy's actions are real numbers: an integer Box would receive values it cannot hold.
            raise ValueError(
                f"Box action spaces must have a floating-point dtype, got {action_space}: use Discrete for "
                "integer actions"
            )
        if not (np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high))):
            # Actions are clipped to the bounds, and a checkpoint records them as JSON numbers.
            raise ValueError(f"action space bounds must be finite, got {action_space}")
        return SpaceInfo(
            obs_dim=obs_dim,
            discrete=False,
            act_dim=int(action_space.shape[0]),
            act_low=tuple(float(x) for x in action_space.low),
            act_high=tuple(float(x) for x in action_space.high),
        )
    raise ValueError(f"action space must be Discrete or a flat Box, got {action_space}")


def env_space_info(env_id: str, env_kwargs: dict[str, Any] | None = None) -> SpaceInfo:
    """The spaces of an environment, checked as ``space_info`` does; ValueError with a readable message otherwise."""
    env = make_env(env_id, env_kwargs)
    try:
        return space_info(env.observation_space, env.action_space)
    finally:
        env.close()


def make_env_check(env_id: str, env_kwargs: dict[str, Any] | None = None) -> dict[str, str]:
    """Build the environment once to prove it works here; return its spaces as text for a form to show.

    Raises ValueError with a message a user can act on when gymnasium refuses the id or the kwargs.
    """
    env = make_env(env_id, env_kwargs)
    try:
        space_info(env.observation_space, env.action_space)
        obs, _ = env.reset(seed=0)
        if not np.all(np.isfinite(obs)):
            raise ValueError(f"{env_id} returned a non-finite first observation")
        env.action_space.seed(0)
        try:  # some kwargs are only used, and fail, in step() (Pendulum's g="abc")
            env.step(env.action_space.sample())
        except Exception as exc:
            raise ValueError(f"{env_id} could not take a step with these kwargs: {exc}") from exc
        return {"observation_space": str(env.observation_space), "action_space": str(env.action_space)}
    finally:
        env.close()


def check_policy_fits(space: SpaceInfo, env: gym.Env, env_id: str) -> None:
    """Refuse to play a policy on an environment whose spaces differ from the ones it was trained on (a checkpoint
    whose env id was edited, say): it would fail in a matrix product, or act on the wrong inputs."""
    found = space_info(env.observation_space, env.action_space)
    if found != space:
        raise ValueError(f"this policy was trained on spaces {space.to_dict()}, but {env_id} has {found.to_dict()}")
