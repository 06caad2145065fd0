from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from trainer import CheckpointError, TrainResult, TRPOConfig, load_policy, read_metadata, save_checkpoint, train


def test_it_round_trips_to_the_same_actions(tiny_result: TrainResult, tmp_path: Path) -> None:
    path = save_checkpoint(
        tiny_result.agent,
        tmp_path / "a.safetensors",
        env_id="CartPole-v1",
        env_kwargs={},
        summary={"eval_return_mean": 1.0},
        versions=tiny_result.versions,
    )
    policy = load_policy(path)
    obs = np.random.default_rng(0).normal(size=(64, 4))
    np.testing.assert_array_equal(policy.act(obs), tiny_result.agent.policy().act(obs))
    assert isinstance(policy.act(obs[0]), int)
    meta = read_metadata(path)
    assert meta["env_id"] == "CartPole-v1"
    assert meta["config"] == tiny_result.agent.config.to_dict()
    assert meta["summary"] == {"eval_return_mean": 1.0}
    assert meta["versions"]["torch"] == torch.__version__
    assert meta["versions"]["cpu_capability"] == torch.backends.cpu.get_cpu_capability(), "results depend on it"


def test_it_keeps_the_observation_normaliser(tmp_path: Path) -> None:
    config = TRPOConfig(n_envs=1, n_steps=64, value_minibatch_size=32, value_epochs=1, normalize_observations=True)
    result = train(config, "Pendulum-v1", total_steps=128, seed=0)
    path = save_checkpoint(result.agent, tmp_path / "p.safetensors", env_id="Pendulum-v1")
    policy = load_policy(path)
    obs = np.random.default_rng(1).normal(size=(8, 3))
    np.testing.assert_allclose(policy.act(obs), result.agent.policy().act(obs))
    assert result.agent.normalizer.count > 0


def test_it_refuses_a_pickle(tiny_result: TrainResult, tmp_path: Path) -> None:
    path = tmp_path / "evil.safetensors"
    torch.save(tiny_result.agent.actor.state_dict(), path)
    with pytest.raises(CheckpointError, match="pickle"):
        load_policy(path)
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(CheckpointError, match="pickle"):
        load_policy(raw)


def test_it_refuses_garbage_and_foreign_safetensors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"hello world, not a checkpoint")
    with pytest.raises(CheckpointError, match="not a safetensors"):
        load_policy(junk)
    import safetensors.torch

    foreign = tmp_path / "foreign.safetensors"
    safetensors.torch.save_file({"w": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match="not a Trustboard checkpoint"):
        load_policy(foreign)


@pytest.mark.parametrize("low_byte", [0x80, ord("P")])
def test_it_loads_a_checkpoint_whose_header_length_starts_like_a_pickle(
    tiny_result: TrainResult, tmp_path: Path, low_byte: int
) -> None:
    """A safetensors header length with low byte 0x80 (or "P") begins the file like a pickle (or a zip)."""
    path = tmp_path / "c.safetensors"
    for pad in range(256):
        save_checkpoint(tiny_result.agent, path, env_id="CartPole-v1", summary={"pad": "x" * pad})
        if path.read_bytes()[0] == low_byte:
            break
    else:
        pytest.fail(f"no padding gave a header length with low byte {low_byte:#x}")
    policy = load_policy(path)
    assert policy.metadata["summary"]["pad"] == "x" * pad
    obs = np.zeros((3, 4))
    np.testing.assert_array_equal(policy.act(obs), tiny_result.agent.policy().act(obs))
