"""The training loop: callbacks, cancellation, determinism, divergence, and metric names."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
import torch

from tests.trainer.conftest import TINY
from trainer import METRIC_NAMES, TrainingDiverged, TrainResult, TRPOConfig, evaluate, train


def test_it_emits_every_metric_on_every_update(tiny_result: TrainResult) -> None:
    assert tiny_result.updates == 4
    assert tiny_result.steps == 1024
    for i, m in enumerate(tiny_result.metrics, start=1):
        assert set(m) == set(METRIC_NAMES)
        assert m["time/update"] == i
        assert m["time/steps"] == i * 256
    accepted = [m for m in tiny_result.metrics if m["train/step_accepted"]]
    assert accepted, "at least one step should be accepted on CartPole"
    assert all(m["train/kl"] <= TINY.max_kl for m in accepted)


def test_it_is_bit_for_bit_reproducible_on_cpu() -> None:
    a = train(TINY, "CartPole-v1", total_steps=768, seed=11)
    b = train(TINY, "CartPole-v1", total_steps=768, seed=11)
    c = train(TINY, "CartPole-v1", total_steps=768, seed=12)
    strip = [{k: v for k, v in m.items() if not k.startswith("time/steps_per_s")} for m in a.metrics]
    assert strip == [{k: v for k, v in m.items() if not k.startswith("time/steps_per_s")} for m in b.metrics]
    for pa, pb in zip(a.agent.actor.parameters(), b.agent.actor.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert any(
        not torch.equal(pa, pc) for pa, pc in zip(a.agent.actor.parameters(), c.agent.actor.parameters(), strict=True)
    )


def test_it_stops_between_updates_when_asked() -> None:
    seen: list[float] = []
    result = train(
        TINY,
        "CartPole-v1",
        total_steps=10_000,
        seed=0,
        on_update=lambda m: seen.append(m["time/update"]),
        should_stop=lambda: len(seen) >= 2,
    )
    assert result.stopped
    assert result.updates == 2
    assert seen == [1.0, 2.0]


class _BrokenEnv(gym.Env):
    """A broken simulator: after a few steps it returns NaN observations, infinite rewards, or rewards so large
    that the value regression overflows."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, fault: str = "nan_obs") -> None:
        self.fault = fault

    def reset(self, *, seed: int | None = None, options: dict | None = None):  # type: ignore[override]
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(2, np.float32), {}

    def step(self, action):  # type: ignore[override]
        self.t += 1
        broken = self.t > 50
        obs = np.full(2, np.nan if broken and self.fault == "nan_obs" else 0.1, np.float32)
        reward = {"inf_reward": np.inf, "huge_reward": 1e200}.get(self.fault, 1.0) if broken else 1.0
        return obs, reward, False, self.t >= 200, {}


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("nan_obs", "observations contain NaN"), ("inf_reward", "rewards contain NaN or infinity"),
     ("huge_reward", "value loss contain NaN or infinity")],
)  # fmt: skip
def test_it_fails_with_a_clear_reason_when_training_diverges(fault: str, reason: str) -> None:
    gym.register("TrustboardTestBroken-v0", entry_point=_BrokenEnv)
    try:
        with pytest.raises(TrainingDiverged, match=reason):
            train(TINY, "TrustboardTestBroken-v0", env_kwargs={"fault": fault}, total_steps=512, seed=0)
    finally:
        gym.registry.pop("TrustboardTestBroken-v0")


def test_an_evaluation_with_a_non_finite_return_says_so_instead_of_scoring_nan() -> None:
    gym.register("TrustboardTestBroken-v0", entry_point=_BrokenEnv)
    try:
        agent = train(TINY, "TrustboardTestBroken-v0", env_kwargs={"fault": "none"}, total_steps=256, seed=0).agent
        with pytest.raises(ValueError, match=r"episode 0 \(seed 7\) has a non-finite return \(inf\)"):
            evaluate(agent, "TrustboardTestBroken-v0", {"fault": "inf_reward"}, episodes=2, seed=7)
    finally:
        gym.registry.pop("TrustboardTestBroken-v0")


def test_it_refuses_cuda_where_there_is_none() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        train(TRPOConfig(device="cuda", n_steps=64, value_minibatch_size=64), "CartPole-v1", total_steps=64)


def test_it_trains_box_actions_with_asynchronous_envs() -> None:
    from trainer.envs import make_vector_env

    envs = make_vector_env("Pendulum-v1", {}, 2, mode="async")
    try:
        assert isinstance(envs, gym.vector.AsyncVectorEnv), "vector_mode=async means subprocess envs"
    finally:
        envs.close()
    config = TRPOConfig(n_envs=2, n_steps=64, value_minibatch_size=64, value_epochs=1, vector_mode="async")
    result = train(config, "Pendulum-v1", total_steps=256, seed=0)
    assert result.updates == 2
    assert np.isfinite(result.metrics[-1]["train/value_loss"])


def test_reward_scaling_puts_value_targets_on_a_unit_scale_and_leaves_reported_returns_alone() -> None:
    """Pendulum's discounted returns are in the hundreds; scaled by their running std they are O(1)."""
    config = dataclasses.replace(TINY, gamma=0.99, n_steps=256)
    raw = train(config, "Pendulum-v1", total_steps=1536, seed=0)
    scaled = train(dataclasses.replace(config, normalize_rewards=True), "Pendulum-v1", total_steps=1536, seed=0)
    assert min(m["train/value_loss"] for m in raw.metrics) > 1000
    assert max(m["train/value_loss"] for m in scaled.metrics) < 10
    # Episode returns are reported in the environment's units either way (Pendulum: about −1,000 at the start).
    assert raw.metrics[-1]["rollout/ep_return_mean"] < -500
    assert scaled.metrics[-1]["rollout/ep_return_mean"] < -500


def test_a_linear_max_kl_schedule_narrows_the_trust_region_update_by_update() -> None:
    config = dataclasses.replace(TINY, max_kl=0.04, max_kl_schedule="linear")
    result = train(config, "CartPole-v1", total_steps=256 * 4, seed=3)
    deltas = [m["train/max_kl"] for m in result.metrics]
    assert deltas == pytest.approx([0.04, 0.03, 0.02, 0.01])
    accepted = [m for m in result.metrics if m["train/step_accepted"]]
    assert accepted, "at least one step should be accepted on CartPole"
    assert all(m["train/kl"] <= m["train/max_kl"] for m in accepted)
    constant = train(dataclasses.replace(config, max_kl_schedule="constant"), "CartPole-v1", total_steps=1024, seed=3)
    assert [m["train/max_kl"] for m in constant.metrics] == [0.04] * 4
    # Same first update (same δ), then the schedule's smaller steps take the runs apart.
    assert result.metrics[0]["train/kl"] == constant.metrics[0]["train/kl"]
    assert any(
        not torch.equal(a, b)
        for a, b in zip(result.agent.actor.parameters(), constant.agent.actor.parameters(), strict=True)
    )


def test_numpy_integers_are_seeds_like_any_other(tiny_result) -> None:
    """They pass the seed check, then failed in torch's and gymnasium's seeding."""
    import numpy as np

    from trainer import TRPOConfig, evaluate, train

    policy = tiny_result.agent.policy()
    assert (
        evaluate(policy, "CartPole-v1", episodes=np.int64(2), seed=np.int64(3)).returns
        == evaluate(policy, "CartPole-v1", episodes=2, seed=3).returns
    )
    config = TRPOConfig(n_envs=1, n_steps=32, value_minibatch_size=32, hidden_sizes=(8,), value_hidden_sizes=(8,))
    assert train(config, "CartPole-v1", total_steps=np.int64(32), seed=np.int64(5)).steps == 32
