"""Shared fixtures for trainer tests: one tiny trained CartPole agent, reused across tests."""

from __future__ import annotations

import pytest

from trainer import TrainResult, TRPOConfig, train

TINY = TRPOConfig(
    n_envs=2,
    n_steps=128,
    value_minibatch_size=64,
    value_epochs=2,
    hidden_sizes=(16,),
    value_hidden_sizes=(16,),
    device="cpu",
)


@pytest.fixture(scope="session")
def tiny_result() -> TrainResult:
    return train(TINY, "CartPole-v1", total_steps=1024, seed=3)
