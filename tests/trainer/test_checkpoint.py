from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import safetensors
import safetensors.torch
import torch

from trainer import (
    CheckpointError,
    TrainResult,
    TRPOConfig,
    evaluate,
    load_policy,
    read_metadata,
    save_checkpoint,
    train,
)
from trainer import checkpoint as checkpoint_module


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


def _saved(result: TrainResult, path: Path) -> Path:
    return save_checkpoint(result.agent, path, env_id="CartPole-v1", env_kwargs={}, versions=result.versions)


def _rewrite(path: Path, edit_info=None, edit_tensors=None) -> None:
    """Rewrite a checkpoint with its description and/or tensors edited, as someone with a text editor could."""
    with safetensors.safe_open(str(path), framework="pt") as f:
        raw = f.metadata()["trustboard"]
    tensors = safetensors.torch.load_file(str(path))
    info = json.loads(raw)
    if edit_info is not None:
        info = edit_info(info)
    if edit_tensors is not None:
        edit_tensors(tensors)
    safetensors.torch.save_file(tensors, str(path), metadata={"trustboard": json.dumps(info)})


def test_a_truncated_or_corrupt_file_is_a_checkpoint_error(tiny_result: TrainResult, tmp_path: Path) -> None:
    """safetensors' own error is no ValueError: it reached the command line as a traceback."""
    path = _saved(tiny_result, tmp_path / "c.safetensors")
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_policy(path)
    header = b'{"foo": 1}'
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_policy(path)


def test_a_failed_save_leaves_the_earlier_checkpoint_whole(
    tiny_result: TrainResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _saved(tiny_result, tmp_path / "c.safetensors")
    before = path.read_bytes()

    def fail(*args: object, **kwargs: object) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module, "checkpoint_bytes", fail)
    with pytest.raises(OSError, match="disk full"):
        _saved(tiny_result, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.safetensors"], "no partial file is left behind"


def _drop(key: str):
    def edit(info: dict) -> dict:
        del info[key]
        return info

    return edit


def _set_space(**fields: object):
    def edit(info: dict) -> dict:
        info["space"].update(fields)
        return info

    return edit


@pytest.mark.parametrize(
    ("edit_info", "edit_tensors", "message"),
    [
        (_drop("env_id"), None, "lacks 'env_id'"),
        (_drop("space"), None, "lacks 'space'"),
        (lambda info: [info], None, "must be a JSON object"),
        (_set_space(discrete="false"), None, "space.discrete must be true or false"),
        (_set_space(act_low=[0.0, 1.0, 2.0]), None, "must be null for a discrete"),
        (_set_space(obs_dim=0), None, "space.obs_dim must be an integer"),
        (lambda info: {**info, "config": {**info["config"], "max_kl": 7}}, None, "checkpoint's config: max_kl"),
        (None, lambda t: t.pop("obs_norm.mean"), "missing: obs_norm.mean"),
        (None, lambda t: t.update({"extra": torch.zeros(1)}), "unexpected: extra"),
        (None, lambda t: t.update({"obs_norm.var": torch.ones(1, dtype=torch.float64)}), "obs_norm.var has shape"),
        (None, lambda t: t["actor.body.0.weight"].fill_(float("nan")), "non-finite"),
        (None, lambda t: t["obs_norm.var"].fill_(-1.0), "obs_norm.var has negative values"),  # NaN actions before
        (None, lambda t: t["obs_norm.count"].fill_(-3.0), "obs_norm.count has negative values"),
        (lambda info: {**info, "summary": None}, None, "summary .* must be JSON objects"),  # a traceback in evaluate
        (lambda info: {**info, "summary": {"evaluation": 7}}, None, "summary .* must be JSON objects"),
    ],
)
def test_an_edited_checkpoint_is_refused_in_one_line(
    tiny_result: TrainResult, tmp_path: Path, edit_info, edit_tensors, message: str
) -> None:
    path = _saved(tiny_result, tmp_path / "c.safetensors")
    _rewrite(path, edit_info, edit_tensors)
    with pytest.raises(CheckpointError, match=message) as caught:
        load_policy(path)
    assert "\n" not in str(caught.value)


def test_a_description_claiming_huge_networks_is_refused_before_any_is_built(
    tiny_result: TrainResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 39 KB file claiming 50,000 inputs and 2,048-unit layers took 17 s and 1.9 GB before its refusal."""
    path = _saved(tiny_result, tmp_path / "c.safetensors")

    def huge(info: dict) -> dict:
        info["space"]["obs_dim"] = 50_000
        info["config"]["hidden_sizes"] = info["config"]["value_hidden_sizes"] = [2048]
        return info

    _rewrite(path, huge)
    built: list[bool] = []
    real_build = checkpoint_module.Agent.build

    def build(*args: object, **kwargs: object) -> object:
        built.append(torch.empty(0).device.type == "meta")  # the default device inside `with torch.device(...)`
        return real_build(*args, **kwargs)

    monkeypatch.setattr(checkpoint_module.Agent, "build", build)
    with pytest.raises(
        CheckpointError,
        match=r"actor\.body\.0\.weight has shape \(16, 4\), but its description needs shape \(2048, 50000\)",
    ):
        load_policy(path)
    assert built == [True], "only the memory-free skeleton was built"


def test_a_policy_is_not_played_on_an_environment_with_other_spaces(tiny_result: TrainResult, tmp_path: Path) -> None:
    path = _saved(tiny_result, tmp_path / "c.safetensors")
    _rewrite(path, lambda info: {**info, "env_id": "Acrobot-v1"})
    policy = load_policy(path)
    with pytest.raises(ValueError, match=r"trained on spaces .* but Acrobot-v1 has"):
        evaluate(policy, policy.metadata["env_id"], {}, episodes=1, seed=0)


@pytest.mark.parametrize(
    ("obs", "message"),
    [
        (np.zeros(3), r"expected an observation of shape \(4,\) or a batch \(N, 4\), got shape \(3,\)"),
        (np.zeros((2, 2, 4)), "got shape"),
        (np.float64(0.5), "got shape"),
        (np.array([0.0, np.nan, 0.0, 0.0]), "NaN or infinity"),
    ],
)
def test_act_refuses_an_observation_it_was_not_trained_on(tiny_result: TrainResult, obs, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tiny_result.agent.policy().act(obs)
