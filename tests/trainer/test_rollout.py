"""Rollout collection: true final observations at episode ends, and episode accounting across batches."""

from __future__ import annotations

import numpy as np

from trainer.envs import make_vector_env, space_info
from trainer.normalizer import RunningNormalizer
from trainer.policies import Actor, NumpyActor
from trainer.rollout import RolloutCollector


def _collector(n_envs: int = 3) -> tuple[RolloutCollector, NumpyActor]:
    envs = make_vector_env("CartPole-v1", {}, n_envs)
    space = space_info(envs.single_observation_space, envs.single_action_space)
    return RolloutCollector(envs, space, RunningNormalizer(4, False), seed=0), NumpyActor(Actor(space, (8,), "tanh"))


def test_it_records_the_terminal_observation_not_the_reset_one() -> None:
    collector, actor = _collector()
    batch = collector.collect(actor, 200, np.random.default_rng(0))
    t, i = np.nonzero(batch.terminated)
    assert len(t) > 0
    final = batch.next_obs[t, i]
    # CartPole terminates when the pole passes 12 degrees or the cart leaves ±2.4.
    assert np.all((np.abs(final[:, 2]) > 0.2094) | (np.abs(final[:, 0]) > 2.4))
    # The row after a termination starts a new episode: near the origin.
    later = t + 1 < 200
    assert np.all(np.abs(batch.obs[t[later] + 1, i[later]]) < 0.06)
    # Outside episode ends, next_obs is the next row's observation.
    keep = ~batch.done[:-1]
    np.testing.assert_array_equal(batch.next_obs[:-1][keep], batch.obs[1:][keep])


def test_it_counts_episodes_across_batches() -> None:
    collector, actor = _collector(n_envs=2)
    rng = np.random.default_rng(1)
    batches = [collector.collect(actor, 7, rng) for _ in range(30)]
    done = np.concatenate([b.done for b in batches])
    assert len(collector.recent_returns) == min(100, int(done.sum()))
    # CartPole pays 1 per step, so every return equals its episode's length.
    assert list(collector.recent_returns) == [float(n) for n in collector.recent_lengths]
    lengths = []
    for i in range(2):
        ends = np.flatnonzero(done[:, i])
        lengths += list(np.diff(np.concatenate([[-1], ends])))
    assert len(lengths) < 100, "keep the test under the 100-episode window"
    assert sorted(collector.recent_lengths) == sorted(int(x) for x in lengths)


def _pendulum(log_std_init: float) -> tuple[RolloutCollector, NumpyActor]:
    envs = make_vector_env("Pendulum-v1", {}, 1)
    space = space_info(envs.single_observation_space, envs.single_action_space)
    actor = Actor(space, (8,), "tanh", log_std_init=log_std_init)
    return RolloutCollector(envs, space, RunningNormalizer(3, False), seed=0), NumpyActor(actor)


def test_it_stores_the_sampled_action_not_the_clipped_one() -> None:
    """Log-probabilities are taken on the stored actions: they must be the Gaussian's samples, unclipped (the env
    receives them clipped to [-2, 2])."""
    collector, actor = _pendulum(log_std_init=1.5)  # σ ≈ 4.5: most samples fall outside the bounds
    batch = collector.collect(actor, 200, np.random.default_rng(0))
    assert np.abs(batch.actions).max() > 2.0
    # Pendulum's reward penalises 0.001·u² with the applied (clipped) torque: the reward never reflects |u| > 2.
    assert batch.rewards.min() >= -(np.pi**2 + 0.1 * 8**2 + 0.001 * 2**2) - 1e-6


def test_it_keeps_the_final_observation_of_a_truncated_episode() -> None:
    """Pendulum ends only by its 200-step time limit: the last step is truncated, not terminated, and its
    next_obs is the real final state, not the first observation of the next episode."""
    collector, actor = _pendulum(log_std_init=0.0)
    batch = collector.collect(actor, 250, np.random.default_rng(0))
    assert not batch.terminated.any()
    assert batch.done[199, 0] and not batch.done[:199].any()
    final, restart = batch.next_obs[199, 0], batch.obs[200, 0]
    assert not np.array_equal(final, restart)
    # The final state continues the trajectory: cos θ, sin θ on the unit circle, and θ̇ within one step of the last.
    np.testing.assert_allclose(final[0] ** 2 + final[1] ** 2, 1.0, rtol=1e-5)
    assert abs(final[2] - batch.obs[199, 0, 2]) <= 0.05 * 8 * 3 + 1e-6
