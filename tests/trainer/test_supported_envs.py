"""Every environment the product ships trains, evaluates and checkpoints (tiny budgets: a smoke test)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trainer import TRPOConfig, evaluate, load_policy, save_checkpoint, train

ENVS = [
    "CartPole-v1", "Acrobot-v1", "Pendulum-v1", "MountainCarContinuous-v0",
    "Hopper-v5", "HalfCheetah-v5", "Walker2d-v5", "Swimmer-v5", "InvertedPendulum-v5",
]  # fmt: skip
CONFIG = TRPOConfig(n_envs=2, n_steps=64, value_minibatch_size=64, value_epochs=1, normalize_observations=True)


@pytest.mark.parametrize("env_id", ENVS)
def test_it_trains_and_acts_on(env_id: str, tmp_path: Path) -> None:
    result = train(CONFIG, env_id, total_steps=256, seed=0)
    assert result.updates == 2
    assert all(np.isfinite(m["train/value_loss"]) for m in result.metrics)
    ev = evaluate(result.agent, env_id, episodes=1, seed=0, max_steps_per_episode=200)
    assert np.isfinite(ev.mean)
    policy = load_policy(save_checkpoint(result.agent, tmp_path / "c.safetensors", env_id=env_id))
    obs = np.zeros(result.agent.space.obs_dim)
    np.testing.assert_allclose(policy.act(obs), result.agent.policy().act(obs))
