"""Resuming from a training state ends exactly where an uninterrupted run does."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from trainer import CheckpointError, TrainingState, TRPOConfig, train
from trainer import state as trainer_state

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


def test_a_resumed_run_keeps_saving_states_on_the_same_schedule() -> None:
    """A second interruption must not cost everything since the first: resuming keeps ``checkpoint_every``."""
    states: list[TrainingState] = []
    train(CONFIG, "CartPole-v1", total_steps=256 * 7, seed=5, checkpoint_every=2, on_checkpoint=states.append)
    later: list[TrainingState] = []
    train(CONFIG, "CartPole-v1", total_steps=256 * 7, seed=5, resume=states[0], on_checkpoint=later.append)
    assert [s.update for s in later] == [4, 6]


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


def _states(config: TRPOConfig = CONFIG, env_id: str = "CartPole-v1") -> list[TrainingState]:
    states: list[TrainingState] = []
    train(config, env_id, total_steps=256 * 3, seed=5, checkpoint_every=1, on_checkpoint=states.append)
    return states


def test_a_non_finite_metric_survives_a_save_and_comes_back_as_it_was() -> None:
    """A skipped update records train/cg_residual = NaN: the state's JSON header refused it, failing the run."""
    import math

    state = _states()[0]
    history = state.metrics
    history[0]["train/cg_residual"], history[0]["train/kl"] = math.nan, None
    del history[0]["train/entropy"]
    keys, values, kinds = trainer_state._encode_metrics(history)
    state.info["metric_keys"], state.tensors["metrics.values"], state.tensors["metrics.kinds"] = keys, values, kinds
    back = TrainingState.from_bytes(state.to_bytes()).metrics
    assert math.isnan(back[0]["train/cg_residual"]) and back[0]["train/kl"] is None
    assert "train/entropy" not in back[0]
    assert {k: v for k, v in back[0].items() if k != "train/cg_residual"} == {
        k: v for k, v in history[0].items() if k != "train/cg_residual"
    }


def test_a_long_runs_history_stays_out_of_the_header() -> None:
    """Kept in the JSON header, ~560 bytes an update passed the 10 MiB header limit after ~18,600 updates: every
    later resume of such a run found its state unreadable and started over."""
    state = _states()[0]
    row = state.metrics[0]
    keys, values, kinds = trainer_state._encode_metrics([row] * 40_000)
    state.info["metric_keys"], state.tensors["metrics.values"], state.tensors["metrics.kinds"] = keys, values, kinds
    data = state.to_bytes()
    assert int.from_bytes(data[:8], "little") < 100_000, "the header holds no history"
    assert TrainingState.from_bytes(data).metrics[-1] == row


@pytest.mark.parametrize(
    "damage",
    [
        lambda s: s.info.pop("numpy_rng"),
        lambda s: s.tensors.__setitem__("actor.body.0.weight", torch.zeros(3, 4)),
        lambda s: s.tensors.pop("critic.body.0.bias"),
        lambda s: s.tensors.__setitem__("metrics.values", torch.zeros(1, 1, dtype=torch.float64)),
        lambda s: s.tensors.__setitem__("obs_norm.mean", torch.zeros(1, dtype=torch.float64)),
        lambda s: s.tensors.__setitem__("optim.0.exp_avg", torch.zeros(2, 2)),
        lambda s: [s.tensors.pop(k) for k in list(s.tensors) if k.startswith("optim.1.")],
    ],
    ids=[
        "no-numpy-rng",
        "misshapen-weight",
        "missing-tensor",
        "misshapen-history",
        "misshapen-obs-stats",
        "misshapen-adam-moment",
        "missing-adam-state",
    ],
)
def test_a_state_that_parses_but_does_not_fit_is_a_checkpoint_error(damage) -> None:
    """These failed the run ("KeyError: 'numpy_rng'", "size mismatch") instead of being an unreadable state."""
    state = _states()[0]
    damage(state)
    resumable = TrainingState.from_bytes(state.to_bytes())
    with pytest.raises(CheckpointError):
        train(CONFIG, "CartPole-v1", total_steps=256 * 3, seed=5, resume=resumable)


def test_a_state_written_with_the_history_in_its_header_still_resumes() -> None:
    """States saved before the history moved into tensors are on workers' storage while a deploy rolls out."""
    full = train(CONFIG, "CartPole-v1", total_steps=256 * 3, seed=5, checkpoint_every=1, on_checkpoint=lambda s: None)
    state = _states()[0]
    state.info["metrics"] = state.metrics
    del state.info["metric_keys"], state.tensors["metrics.values"], state.tensors["metrics.kinds"]
    resumed = train(
        CONFIG, "CartPole-v1", total_steps=256 * 3, seed=5, resume=TrainingState.from_bytes(state.to_bytes())
    )
    assert _strip(resumed.metrics) == _strip(full.metrics)
