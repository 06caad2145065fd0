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
from trainer.normalizer import ReturnScaler, RunningNormalizer
from trainer.policies import NumpyActor


class Rollout(NamedTuple):
    """One batch, shaped (n_steps, n_envs, …); observations are normalised as the policy saw them."""

    obs: np.ndarray
    next_obs: np.ndarray  # the observation each transition led to (the final one at episode ends)
    actions: np.ndarray  # as sampled (unclipped)
    rewards: np.ndarray  # as the env gave them
    learning_rewards: np.ndarray  # what advantages and value targets are computed from (scaled, when enabled)
    terminated: np.ndarray
    done: np.ndarray  # terminated or truncated
    raw_obs: np.ndarray  # unnormalised, as the env gave them


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
    """Steps a vector env with a :class:`NumpyActor`, keeping episode statistics across batches.

    For a gSDE policy it samples each env's exploration matrix at the start of every batch and then every
    ``sde_sample_freq`` steps (never, within the batch, when that is ≤ 0), as sb3's ``collect_rollouts`` does.

    It owns the observation and reward statistics' updates: once per batch after collecting it (the default), or
    with ``per_step_stats`` after every env step, as sb3's VecNormalize does (the first reset's observations
    counted too, final observations normalised with the statistics of their step).
    """

    def __init__(
        self,
        envs: gym.vector.VectorEnv,
        space: SpaceInfo,
        normalizer: RunningNormalizer,
        seed: int,
        reward_scaler: ReturnScaler | None = None,
        sde_sample_freq: int = -1,
        per_step_stats: bool = False,
    ) -> None:
        self.envs = envs
        self.per_step_stats = per_step_stats
        self.sde_sample_freq = sde_sample_freq
        self.space = space
        self.normalizer = normalizer
        self.n_envs = envs.num_envs
        self.reward_scaler = (
            reward_scaler if reward_scaler is not None else ReturnScaler(self.n_envs, 1.0, enabled=False)
        )
        self.recent_returns: deque[float] = deque(maxlen=100)
        self.recent_lengths: deque[int] = deque(maxlen=100)
        self.reset(seed)
        if not space.discrete:
            self.low = np.asarray(space.act_low, dtype=np.float64)
            self.high = np.asarray(space.act_high, dtype=np.float64)

    def reset(self, seed: int) -> None:
        """Start fresh episodes in every env (unfinished ones are dropped from the statistics)."""
        self.raw_obs, _ = self.envs.reset(seed=seed)
        self.reward_scaler.reset()
        self.ep_return = np.zeros(self.n_envs)
        self.ep_len = np.zeros(self.n_envs, dtype=np.int64)

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
        norm = self.normalizer
        normalize = norm if norm.enabled else None
        per_step = self.per_step_stats
        if per_step:
            seen = np.empty((n_steps, n, d), dtype=np.float32)
            seen_next = np.empty_like(seen)
            learning = np.empty_like(rewards)
            finals: list[tuple[int, np.ndarray, np.ndarray]] = []
            if norm.fresh:
                norm.update(obs)  # VecNormalize counts the observations of the first reset
        exploration = None
        for t in range(n_steps):
            raw[t] = obs
            if actor.sde and (t == 0 or (self.sde_sample_freq > 0 and t % self.sde_sample_freq == 0)):
                exploration = actor.sample_exploration(rng, n)  # gSDE: one noise matrix per env, held a while
            obs_in = obs if normalize is None else normalize(obs)
            a = actor.act(obs_in, rng, deterministic=False, exploration=exploration)
            actions[t] = a
            obs, rewards[t], terminated[t], trunc, info = self.envs.step(
                a if self.space.discrete else a.clip(self.low, self.high)
            )
            done[t] = terminated[t] | trunc
            raw_next[t] = obs
            if "_final_obs" in info:
                for i in np.flatnonzero(info["_final_obs"]):
                    raw_next[t, i] = info["final_obs"][i]
            if per_step:
                seen[t] = obs_in
                norm.update(obs)  # the observations the next step acts on (a new episode's first, after a reset)
                if done[t].any():  # final observations, normalised with this step's statistics
                    ended = np.flatnonzero(done[t])
                    finals.append((t, ended, norm(raw_next[t, ended])))
                learning[t] = self.reward_scaler.step(rewards[t], done[t])
        self.raw_obs = obs
        self._record_episodes(rewards, done)
        if per_step:
            # A continuing env's next observation is what the next step acted on, under the same statistics.
            seen_next[:-1] = seen[1:]
            seen_next[-1] = norm(raw_next[-1])
            for t, ended, normalised in finals:
                seen_next[t, ended] = normalised
        else:
            seen, seen_next = norm(raw), norm(raw_next)
            learning = self.reward_scaler(rewards, done)
            norm.update(raw)  # for the next batch: this one was seen through one set of statistics
        return Rollout(
            obs=seen,
            next_obs=seen_next,
            actions=actions,
            rewards=rewards,
            learning_rewards=learning,
            terminated=terminated,
            done=done,
            raw_obs=raw,
        )

    def _record_episodes(self, rewards: np.ndarray, done: np.ndarray) -> None:
        """Close the books on every episode that ended in this batch, in the order they ended; carry the rest over.

        The order matters once more than 100 episodes end in a batch: the statistics are of the last 100 to end
        (as sb3's Monitor keeps them), not of the last env's.
        """
        start = np.zeros(self.n_envs, dtype=np.int64)
        for t, i in zip(*np.nonzero(done), strict=True):  # row-major: by step, then by env
            self.recent_returns.append(float(self.ep_return[i] + rewards[start[i] : t + 1, i].sum()))
            self.recent_lengths.append(int(self.ep_len[i] + t + 1 - start[i]))
            self.ep_return[i], self.ep_len[i], start[i] = 0.0, 0, t + 1
        for i in range(self.n_envs):
            self.ep_return[i] += rewards[start[i] :, i].sum()
            self.ep_len[i] += len(rewards) - start[i]

    def episode_stats(self) -> tuple[float | None, float | None]:
        """Mean return and length of the last 100 finished episodes (None before the first one ends)."""
        if not self.recent_returns:
            return None, None
        return float(np.mean(self.recent_returns)), float(np.mean(self.recent_lengths))
