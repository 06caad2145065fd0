"""Running mean/variance of observations, merged a batch at a time (Chan et al.'s parallel algorithm)."""

from __future__ import annotations

import numpy as np


class RunningNormalizer:
    """Normalises observations by running statistics; ``enabled=False`` makes it the identity.

    Statistics are updated once per rollout, after it is collected, so every observation in a batch is
    normalised with the same statistics: the policy that acted and the policy being updated see the same inputs.
    """

    def __init__(self, dim: int, enabled: bool, clip: float = 10.0, eps: float = 1e-8) -> None:
        self.enabled = enabled
        self.clip = clip
        self.eps = eps
        self.mean = np.zeros(dim, dtype=np.float64)
        self.var = np.ones(dim, dtype=np.float64)
        self.count = 0.0

    def update(self, batch: np.ndarray) -> None:
        if not self.enabled:
            return
        batch = batch.reshape(-1, self.mean.shape[0]).astype(np.float64)
        n = batch.shape[0]
        b_mean, b_var = batch.mean(axis=0), batch.var(axis=0)
        total = self.count + n
        delta = b_mean - self.mean
        m2 = self.var * self.count + b_var * n + delta**2 * self.count * n / total
        self.mean = self.mean + delta * n / total
        self.var = m2 / total
        self.count = total

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        if not self.enabled or self.count == 0:
            return np.asarray(obs, dtype=np.float32)
        z = (obs - self.mean) / np.sqrt(self.var + self.eps)
        return np.clip(z, -self.clip, self.clip).astype(np.float32)

    def state(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean.copy(), "var": self.var.copy(), "count": np.array([self.count])}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.mean = np.asarray(state["mean"], dtype=np.float64).copy()
        self.var = np.asarray(state["var"], dtype=np.float64).copy()
        self.count = float(np.asarray(state["count"]).reshape(-1)[0])
