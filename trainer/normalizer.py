"""Running statistics merged a batch at a time (Chan et al.'s parallel algorithm): observations and returns."""

from __future__ import annotations

import math

import numpy as np

# VecNormalize's RunningMeanStd starts at mean 0, variance 1 and this count (with normalize_every_step).
VECNORMALIZE_INITIAL_COUNT = 1e-4


class RunningNormalizer:
    """Normalises observations by running statistics; ``enabled=False`` makes it the identity.

    The rollout updates the statistics once per batch, after collecting it, so every observation in a batch is
    normalised with the same statistics; or, with ``TRPOConfig.normalize_every_step``, after every env step as sb3's
    VecNormalize does. Either way the update sees each observation as the policy saw it when acting.
    """

    def __init__(
        self, dim: int, enabled: bool, clip: float = 10.0, eps: float = 1e-8, initial_count: float = 0.0
    ) -> None:
        """``initial_count`` > 0 weighs a prior of mean 0 and variance 1 into the statistics, as VecNormalize's
        RunningMeanStd does with 1e-4 (it shows in the first few steps only); 0 starts from the first batch alone."""
        self.enabled = enabled
        self.clip = clip
        self.eps = eps
        self.mean = np.zeros(dim, dtype=np.float64)
        self.var = np.ones(dim, dtype=np.float64)
        self.count = initial_count
        self.fresh = True  # no data yet: normalising is the identity until the first update

    def update(self, batch: np.ndarray) -> None:
        """Merge a batch of rows into the statistics.

        Called every env step with ``normalize_every_step``, so it avoids ``np.mean``/``np.var``'s Python-level
        overhead (about 3x this method's cost on a few rows); the sums below are the ones they compute, bit for bit.
        """
        if not self.enabled:
            return
        batch = np.asarray(batch, dtype=np.float64).reshape(-1, self.mean.shape[0])
        n = batch.shape[0]
        b_mean = batch.sum(axis=0) / n
        diff = batch - b_mean
        b_var = (diff * diff).sum(axis=0) / n
        total = self.count + n
        delta = b_mean - self.mean
        m2 = self.var * self.count + b_var * n + delta**2 * self.count * n / total
        self.mean = self.mean + delta * n / total
        self.var = m2 / total
        self.count = total
        self.fresh = False

    def update_scalar(self, values: list[float]) -> None:
        """:meth:`update` for a one-dimensional statistic given as Python floats (the same merge, in plain floats).

        Why: the per-step return statistics call it every env step, where a dozen NumPy calls on a one-element
        array cost about 4x this.
        """
        if not self.enabled:
            return
        n = len(values)
        b_mean = sum(values) / n
        b_var = sum((v - b_mean) ** 2 for v in values) / n
        count, mean, var = self.count, float(self.mean[0]), float(self.var[0])
        total = count + n
        delta = b_mean - mean
        self.mean[0] = mean + delta * n / total
        self.var[0] = (var * count + b_var * n + delta**2 * count * n / total) / total
        self.count = total
        self.fresh = False

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        if not self.enabled or self.fresh:
            return np.asarray(obs, dtype=np.float32)
        z = (obs - self.mean) / np.sqrt(self.var + self.eps)
        return z.clip(-self.clip, self.clip).astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean.copy(), "var": self.var.copy(), "count": np.array([self.count])}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.mean = np.asarray(state["mean"], dtype=np.float64).copy()
        self.var = np.asarray(state["var"], dtype=np.float64).copy()
        self.count = float(np.asarray(state["count"]).reshape(-1)[0])
        self.fresh = self.count == 0


class ReturnScaler:
    """Divides rewards by the running std of the discounted return, as VecNormalize's ``norm_reward`` does.

    Why: MuJoCo rewards range over orders of magnitude between tasks and during training; on a unit scale the value
    function's fixed learning rate suits them all, and rl-baselines3-zoo's published TRPO returns were obtained with
    this scaling. The mean is not subtracted (it would change which states look good). Training only: episode
    returns, metrics and evaluation stay in the environment's own units.

    Like :class:`RunningNormalizer`, the statistics are updated once per batch, before that batch is scaled, so every
    reward of a batch is scaled by the same number; :meth:`step` instead updates and scales one step at a time, as
    VecNormalize does. ``enabled=False`` makes it the identity.
    """

    def __init__(
        self,
        n_envs: int,
        gamma: float,
        enabled: bool,
        clip: float = 10.0,
        eps: float = 1e-8,
        initial_count: float = 0.0,
    ) -> None:
        self.enabled = enabled
        self.gamma = gamma
        self.clip = clip
        self.eps = eps
        self.stats = RunningNormalizer(1, enabled=True, initial_count=initial_count)
        self.running_return = np.zeros(n_envs, dtype=np.float64)

    def reset(self) -> None:
        """Every env starts a new episode: the discounted returns being accumulated start again from zero."""
        self.running_return = np.zeros_like(self.running_return)

    def __call__(self, rewards: np.ndarray, done: np.ndarray) -> np.ndarray:
        """Scale a batch of rewards shaped (n_steps, n_envs); ``done`` ends an episode's discounted return."""
        if not self.enabled:
            return rewards
        returns = np.empty_like(rewards, dtype=np.float64)
        running = self.running_return
        for t in range(rewards.shape[0]):
            running = running * self.gamma + rewards[t]
            returns[t] = running
            running = np.where(done[t], 0.0, running)
        self.running_return = running
        self.stats.update(returns.reshape(-1, 1))
        return np.clip(rewards / self.scale, -self.clip, self.clip)

    def step(self, rewards: np.ndarray, done: np.ndarray) -> np.ndarray:
        """Scale one step's rewards (n_envs,) with statistics this step has just updated, as VecNormalize does.

        The per-step alternative to :meth:`__call__` (``TRPOConfig.normalize_every_step``).
        """
        if not self.enabled:
            return rewards
        running = self.running_return * self.gamma + rewards
        self.stats.update_scalar(running.tolist())
        scaled = (rewards / self.scale).clip(-self.clip, self.clip)
        running[done] = 0.0
        self.running_return = running
        return scaled

    @property
    def scale(self) -> float:
        """The divisor applied to rewards: √(Var[discounted return] + eps)."""
        return math.sqrt(self.stats.var[0] + self.eps)

    def state(self) -> dict[str, np.ndarray]:
        return self.stats.state()

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.stats.load_state(state)
