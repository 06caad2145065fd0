"""Collecting a batch from a vector env, and generalised advantage estimation (Schulman et al., 2016).

Termination and truncation are told apart: a terminated episode's next value is 0, while a truncated one
(time limit) bootstraps from V(final observation). Both cut the GAE chain, since the next row of the batch
belongs to a new episode.
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

import gymnasium as gym
import numpy as np

from trainer.envs import SpaceInfo
from trainer.normalizer import RunningNormalizer
from trainer.policies import NumpyActor


class Rollout(NamedTuple):
    """One batch, shaped (n_steps, n_envs, …); observations are normalised as the policy saw them."""

    obs: np.ndarray
    next_obs: np.ndarray  # the observation each transition led to (the final one at episode ends)
    actions: np.ndarray  # as sampled (unclipped)
    rewards: np.ndarray
    terminated: np.ndarray
    done: np.ndarray  # terminated or truncated
    raw_obs: np.ndarray  # unnormalised, for updating the normaliser


def compute_gae(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    done: np.ndarray,
    gamma: float,
    lam: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Advantages Â_t = Σ (γλ)^l δ_{t+l} within an episode, and returns Â_t + V(s_t) as value targets.

    δ_t = r_t + γ·(1 − terminated_t)·V(s_{t+1}) − V(s_t), where s_{t+1} is the true next observation (also at a
    truncation). Arrays are (n_steps, n_envs).
    """
    advantages = np.zeros_like(rewards, dtype=np.float64)
    last = np.zeros(rewards.shape[1:], dtype=np.float64)
    not_terminated = 1.0 - terminated.astype(np.float64)
    not_done = 1.0 - done.astype(np.float64)
    for t in range(rewards.shape[0] - 1, -1, -1):
        delta = rewards[t] + gamma * not_terminated[t] * next_values[t] - values[t]
        last = delta + gamma * lam * not_done[t] * last
        advantages[t] = last
    return advantages, advantages + values


class RolloutCollector:
    """Steps a vector env with a :class:`NumpyActor`, keeping episode statistics across batches."""

    def __init__(self, envs: gym.vector.VectorEnv, space: SpaceInfo, normalizer: RunningNormalizer, seed: int) -> None:
        self.envs = envs
        self.space = space
        self.normalizer = normalizer
        self.n_envs = envs.num_envs
        self.raw_obs, _ = envs.reset(seed=seed)
        envs.action_space.seed(seed)
        self.ep_return = np.zeros(self.n_envs)
        self.ep_len = np.zeros(self.n_envs, dtype=np.int64)
        self.recent_returns: deque[float] = deque(maxlen=100)
        self.recent_lengths: deque[int] = deque(maxlen=100)
        if not space.discrete:
            self.low = np.asarray(space.act_low, dtype=np.float64)
            self.high = np.asarray(space.act_high, dtype=np.float64)

    def collect(self, actor: NumpyActor, n_steps: int, rng: np.random.Generator) -> Rollout:
        n, d = self.n_envs, self.space.obs_dim
        raw = np.empty((n_steps, n, d), dtype=np.float64)
        raw_next = np.empty((n_steps, n, d), dtype=np.float64)
        act_shape = (n_steps, n) if self.space.discrete else (n_steps, n, self.space.act_dim)
        actions = np.empty(act_shape, dtype=np.int64 if self.space.discrete else np.float64)
        rewards = np.empty((n_steps, n), dtype=np.float64)
        terminated = np.empty((n_steps, n), dtype=bool)
        done = np.empty((n_steps, n), dtype=bool)
        obs = self.raw_obs
        for t in range(n_steps):
            raw[t] = obs
            a = actor.act(self.normalizer(obs), rng, deterministic=False)
            actions[t] = a
            env_action = a if self.space.discrete else np.clip(a, self.low, self.high)
            obs, r, term, trunc, info = self.envs.step(env_action)
            rewards[t], terminated[t] = r, term
            done[t] = term | trunc
            raw_next[t] = obs
            if done[t].any():
                self._finish_episodes(t, raw_next, info, r, done[t])
            else:
                self.ep_return += r
                self.ep_len += 1
        self.raw_obs = obs
        return Rollout(
            obs=self.normalizer(raw),
            next_obs=self.normalizer(raw_next),
            actions=actions,
            rewards=rewards,
            terminated=terminated,
            done=done,
            raw_obs=raw,
        )

    def _finish_episodes(self, t: int, raw_next: np.ndarray, info: dict, r: np.ndarray, done: np.ndarray) -> None:
        """At episode ends, record the true final observation and the episode's return and length."""
        self.ep_return += r
        self.ep_len += 1
        for i in np.flatnonzero(done):
            raw_next[t, i] = info["final_obs"][i]
            self.recent_returns.append(float(self.ep_return[i]))
            self.recent_lengths.append(int(self.ep_len[i]))
            self.ep_return[i] = 0.0
            self.ep_len[i] = 0

    def episode_stats(self) -> tuple[float | None, float | None]:
        """Mean return and length of the last 100 finished episodes (None before the first one ends)."""
        if not self.recent_returns:
            return None, None
        return float(np.mean(self.recent_returns)), float(np.mean(self.recent_lengths))
