"""Resuming from a training state ends exactly where an uninterrupted run does."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from trainer import CheckpointError, TrainingState, TRPOConfig, train

CONFIG = TRPOConfig(
    n_envs=2,
    n_steps=128,
    value_minibatch_size=64,
    value_epochs=2,
    hidden_sizes=(16,),
    value_hidden_sizes=(16,),
    device="cpu",
    normalize_observations=True,
    normalize_rewards=True,  # its running statistics must be part of the state too
)


def _strip(metrics: list[dict]) -> list[dict]:
    return [{k: v for k, v in m.items() if k != "time/steps_per_s"} for m in metrics]


@pytest.mark.parametrize(
    ("env_id", "config"),
    [
        ("CartPole-v1", CONFIG),
        ("Pendulum-v1", CONFIG),
        ("Pendulum-v1", dataclasses.replace(CONFIG, use_sde=True, sde_sample_freq=4)),
        ("Pendulum-v1", dataclasses.replace(CONFIG, normalize_every_step=True)),
        ("Pendulum-v1", dataclasses.replace(CONFIG, max_kl_schedule="linear")),
    ],
    ids=["discrete", "gaussian", "gsde", "statistics-every-step", "linear-max-kl"],
)
def test_a_resumed_run_ends_bit_for_bit_like_an_uninterrupted_one(env_id: str, config: TRPOConfig) -> None:
    states: list[TrainingState] = []
    full = train(config, env_id, total_steps=256 * 7, seed=5, checkpoint_every=2, on_checkpoint=states.append)
    assert [s.update for s in states] == [2, 4, 6]

    # A worker died after update 5: its latest state is from update 4, and it went through bytes (storage).
    saved = TrainingState.from_bytes(states[1].to_bytes())
    resumed = train(config, env_id, total_steps=256 * 7, seed=5, resume=saved)

    assert resumed.updates == full.updates == 7
    assert _strip(resumed.metrics) == _strip(full.metrics)
    for a, b in zip(full.agent.actor.parameters(), resumed.agent.actor.parameters(), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(full.agent.critic.parameters(), resumed.agent.critic.parameters(), strict=True):
        assert torch.equal(a, b)


def test_it_refuses_a_state_from_another_config_or_seed() -> None:
    states: list[TrainingState] = []
    train(CONFIG, "CartPole-v1", total_steps=256 * 3, seed=1, checkpoint_every=1, on_checkpoint=states.append)
    with pytest.raises(ValueError, match="different config"):
        train(
            TRPOConfig(**{**CONFIG.__dict__, "max_kl": 0.02}),
            "CartPole-v1",
            total_steps=256 * 3,
            seed=1,
            resume=states[0],
        )
    with pytest.raises(ValueError, match="seed"):
        train(CONFIG, "CartPole-v1", total_steps=256 * 3, seed=2, resume=states[0])


def test_it_refuses_a_pickled_state() -> None:
    import pickle

    with pytest.raises(CheckpointError, match="pickle"):
        TrainingState.from_bytes(pickle.dumps({"update": 3}))


def test_a_truncated_or_incomplete_state_is_a_checkpoint_error() -> None:
    """safetensors' own error, or a missing header key, escaped the worker's handler (which starts the run over)."""
    import json

    import safetensors.torch

    states: list[TrainingState] = []
    train(CONFIG, "CartPole-v1", total_steps=256 * 2, seed=1, checkpoint_every=1, on_checkpoint=states.append)
    data = states[0].to_bytes()
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        TrainingState.from_bytes(data[:-50])
    header = {"format": "trustboard-trpo-state/1", "seed": 1}  # no "update"
    incomplete = safetensors.torch.save(states[0].tensors, metadata={"trustboard_state": json.dumps(header)})
    with pytest.raises(CheckpointError, match="KeyError"):
        TrainingState.from_bytes(incomplete)


@pytest.mark.parametrize("every", [0, 1.5, True, "5"])
def test_checkpoint_every_must_be_a_positive_integer(every: object) -> None:
    with pytest.raises(ValueError, match="checkpoint_every must be an integer of at least 1"):
        train(CONFIG, "CartPole-v1", total_steps=256, seed=1, checkpoint_every=every)
