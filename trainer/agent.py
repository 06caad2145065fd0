"""The trained agent (networks + observation statistics) and the inference-only :class:`Policy`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from trainer.config import TRPOConfig
from trainer.envs import SpaceInfo
from trainer.normalizer import VECNORMALIZE_INITIAL_COUNT, RunningNormalizer
from trainer.policies import Actor, Critic, NumpyActor


def initial_count(config: TRPOConfig) -> float:
    """The running statistics' prior weight: VecNormalize's with per-step statistics, none with per-batch ones."""
    return VECNORMALIZE_INITIAL_COUNT if config.normalize_every_step else 0.0


@dataclass
class Agent:
    """Everything training produces and a checkpoint must restore."""

    config: TRPOConfig
    space: SpaceInfo
    actor: Actor
    critic: Critic
    normalizer: RunningNormalizer

    @classmethod
    def build(cls, config: TRPOConfig, space: SpaceInfo) -> Agent:
        return cls(
            config=config,
            space=space,
            actor=Actor(space, config.hidden_sizes, config.activation, config.log_std_init, sde=config.use_sde),
            critic=Critic(space.obs_dim, config.value_hidden_sizes, config.activation),
            normalizer=RunningNormalizer(
                space.obs_dim, config.normalize_observations, config.obs_clip, initial_count=initial_count(config)
            ),
        )

    def policy(self) -> Policy:
        """A CPU, NumPy-backed snapshot of the current policy for acting."""
        return Policy(NumpyActor(self.actor), self.normalizer, self.space)


class Policy:
    """Acts with a trained policy: ``policy.act(obs)``. Works on CPU whatever device trained it."""

    def __init__(self, actor: NumpyActor, normalizer: RunningNormalizer, space: SpaceInfo) -> None:
        self._actor = actor
        self._normalizer = normalizer
        self.space = space
        self.metadata: dict[str, Any] = {}  # filled by load_policy from the checkpoint header
        if not space.discrete:
            self._low = np.asarray(space.act_low)
            self._high = np.asarray(space.act_high)

    def act(
        self, obs: np.ndarray, deterministic: bool = True, rng: np.random.Generator | None = None
    ) -> np.ndarray | int:
        """Action for one observation (or a batch): the mode by default, a sample with ``deterministic=False``.

        Box actions are clipped to the action bounds, as the environment would.
        """
        obs = np.asarray(obs, dtype=np.float64)
        if obs.ndim not in (1, 2) or obs.shape[-1] != self.space.obs_dim:
            n = self.space.obs_dim
            raise ValueError(f"expected an observation of shape ({n},) or a batch (N, {n}), got shape {obs.shape}")
        if not np.isfinite(obs).all():
            raise ValueError("the observation contains NaN or infinity")
        single = obs.ndim == 1
        batch = obs[None] if single else obs
        if not deterministic and rng is None:
            rng = np.random.default_rng()
        actions = self._actor.act(self._normalizer(batch), rng, deterministic)
        if not self.space.discrete:
            actions = np.clip(actions, self._low, self._high).astype(np.float32)
        if single:
            return int(actions[0]) if self.space.discrete else actions[0]
        return actions

    __call__ = act


def to_tensor(x: np.ndarray, device: torch.device, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(x), dtype=dtype, device=device)
