"""The standard evaluation protocol: fixed episode seeds, deterministic actions by default."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from trainer.agent import Agent, Policy
from trainer.envs import check_policy_fits, check_seed, make_env


@dataclass(frozen=True)
class EvalResult:
    """Every episode's return and length, in the order of their seeds."""

    returns: list[float]
    lengths: list[int]

    @property
    def mean(self) -> float:
        return float(np.mean(self.returns))

    @property
    def std(self) -> float:
        return float(np.std(self.returns))


def evaluate(
    policy: Policy | Agent,
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    episodes: int = 10,
    seed: int = 0,
    deterministic: bool = True,
    max_steps_per_episode: int = 100_000,
) -> EvalResult:
    """Play ``episodes`` episodes, episode i reset with seed ``seed + i``, so every config meets the same starts.

    Stochastic evaluation (``deterministic=False``) samples with a generator seeded from ``seed`` too, so the
    result is reproducible either way.
    """
    if isinstance(episodes, bool) or not isinstance(episodes, int | np.integer) or episodes < 1:
        raise ValueError(f"episodes must be an integer of at least 1, got {episodes!r}")
    episodes = int(episodes)
    check_seed(seed, "the evaluation seed")
    seed = int(seed)  # a NumPy integer passes the check; gymnasium's reset wants a Python int
    if isinstance(policy, Agent):
        policy = policy.policy()
    rng = np.random.default_rng(seed)
    env = make_env(env_id, env_kwargs)
    returns: list[float] = []
    lengths: list[int] = []
    try:
        check_policy_fits(policy.space, env, env_id)
        for i in range(episodes):
            obs, _ = env.reset(seed=seed + i)
            total, length, done = 0.0, 0, False
            while not done and length < max_steps_per_episode:
                action = policy.act(obs, deterministic=deterministic, rng=rng)
                obs, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                length += 1
                done = terminated or truncated
            if not math.isfinite(total):
                # No score can be made of it (a mean, a rank, JSON): say what happened instead of storing NaN.
                raise ValueError(
                    f"{env_id}: evaluation episode {i} (seed {seed + i}) has a non-finite return ({total}): "
                    "the environment returned a NaN or infinite reward"
                )
            returns.append(total)
            lengths.append(length)
    finally:
        env.close()
    return EvalResult(returns, lengths)
