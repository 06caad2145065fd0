from __future__ import annotations

import numpy as np

from trainer.normalizer import ReturnScaler, RunningNormalizer


def test_it_matches_the_statistics_of_all_batches_together() -> None:
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0, 2.0, size=(n, 3)) for n in (5, 17, 100)]
    norm = RunningNormalizer(3, enabled=True)
    for b in batches:
        norm.update(b)
    everything = np.concatenate(batches)
    np.testing.assert_allclose(norm.mean, everything.mean(axis=0))
    np.testing.assert_allclose(norm.var, everything.var(axis=0))
    assert norm.count == len(everything)


def test_it_clips_and_can_be_disabled() -> None:
    norm = RunningNormalizer(1, enabled=True, clip=2.0)
    norm.update(np.array([[0.0], [1.0]]))
    assert norm(np.array([[100.0]]))[0, 0] == 2.0
    off = RunningNormalizer(1, enabled=False)
    off.update(np.array([[5.0]]))
    assert off(np.array([[7.0]]))[0, 0] == 7.0


def test_the_return_scaler_divides_by_the_std_of_discounted_returns_reset_at_episode_ends() -> None:
    gamma = 0.5
    rewards = np.array([[1.0, 2.0], [3.0, -1.0], [2.0, 4.0]])
    done = np.array([[False, True], [True, False], [False, False]])
    # Env 0: 1, 1·½+3 = 3.5 (ends), 2.  Env 1: 2 (ends), −1, −1·½+4 = 3.5.
    returns = np.array([1.0, 3.5, 2.0, 2.0, -1.0, 3.5])
    scaler = ReturnScaler(2, gamma, enabled=True, eps=0.0)
    scaled = scaler(rewards, done)
    np.testing.assert_allclose(scaled, rewards / returns.std())
    np.testing.assert_allclose(scaler.running_return, [2.0, 3.5])  # unfinished episodes carry over


def test_the_return_scaler_carries_returns_across_batches_until_reset() -> None:
    one_batch = ReturnScaler(1, 0.9, enabled=True)
    two_batches = ReturnScaler(1, 0.9, enabled=True)
    rewards = np.arange(1.0, 7.0).reshape(6, 1)
    done = np.zeros((6, 1), dtype=bool)
    one_batch(rewards, done)
    two_batches(rewards[:3], done[:3])
    two_batches(rewards[3:], done[3:])
    np.testing.assert_allclose(two_batches.running_return, one_batch.running_return)
    np.testing.assert_allclose(two_batches.stats.var, one_batch.stats.var)
    two_batches.reset()
    assert two_batches.running_return.tolist() == [0.0]


def test_the_return_scaler_clips_and_can_be_disabled() -> None:
    scaler = ReturnScaler(1, 0.99, enabled=True, clip=1.5)
    scaled = scaler(np.array([[0.0], [0.0], [0.0], [100.0]]), np.zeros((4, 1), dtype=bool))
    assert scaled[-1, 0] == 1.5
    off = ReturnScaler(1, 0.99, enabled=False)
    rewards = np.array([[-7.0]])
    assert off(rewards, np.zeros((1, 1), dtype=bool)) is rewards
