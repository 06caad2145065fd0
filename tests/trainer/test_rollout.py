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
