"""The GPU path: runs only where CUDA is present, and says why it is skipped elsewhere."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from trainer import TRPOConfig, load_policy, save_checkpoint, train

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine"),
]


def test_it_trains_on_cuda_and_the_checkpoint_loads_on_cpu(tmp_path: Path) -> None:
    config = TRPOConfig(n_envs=2, n_steps=256, value_minibatch_size=128, value_epochs=2, device="cuda")
    result = train(config, "Pendulum-v1", total_steps=1024, seed=0)
    assert next(result.agent.actor.parameters()).is_cuda
    assert result.versions["device"] == torch.cuda.get_device_name(0), "the run records the GPU it trained on"
    path = save_checkpoint(result.agent, tmp_path / "gpu.safetensors", env_id="Pendulum-v1")
    policy = load_policy(path)
    obs = np.zeros((4, 3))
    np.testing.assert_allclose(policy.act(obs), result.agent.policy().act(obs), rtol=1e-5, atol=1e-6)


def test_auto_picks_the_gpu_when_there_is_one() -> None:
    config = TRPOConfig(n_steps=64, value_minibatch_size=64, value_epochs=1, device="auto")
    result = train(config, "CartPole-v1", total_steps=64, seed=0)
    assert next(result.agent.actor.parameters()).is_cuda
