"""GAE against a hand computation, with a termination and a truncation in the batch."""

from __future__ import annotations

import numpy as np

from trainer.rollout import compute_gae

GAMMA, LAM = 0.9, 0.8


def test_it_bootstraps_on_truncation_and_not_on_termination() -> None:
    # One env, 4 steps: step 1 terminates, step 3 is truncated by a time limit.
    rewards = np.array([[1.0], [2.0], [3.0], [4.0]])
    values = np.array([[0.5], [0.6], [0.7], [0.8]])
    next_values = np.array([[0.6], [9.0], [0.8], [1.5]])  # 9.0 is V(terminal obs): must be ignored
    terminated = np.array([[False], [True], [False], [False]])
    done = np.array([[False], [True], [False], [True]])
    adv, ret = compute_gae(rewards, values, next_values, terminated, done, GAMMA, LAM)

    d3 = 4.0 + GAMMA * 1.5 - 0.8  # truncated: bootstrap V(final obs), chain starts here
    d2 = 3.0 + GAMMA * 0.8 - 0.7
    d1 = 2.0 - 0.6  # terminated: no bootstrap
    d0 = 1.0 + GAMMA * 0.6 - 0.5
    expected = np.array([[d0 + GAMMA * LAM * d1], [d1], [d2 + GAMMA * LAM * d3], [d3]])
    np.testing.assert_allclose(adv, expected)
    np.testing.assert_allclose(ret, expected + values)


def test_it_bootstraps_the_last_step_of_an_unfinished_rollout() -> None:
    rewards = np.ones((2, 2))
    values = np.zeros((2, 2))
    next_values = np.full((2, 2), 10.0)
    flags = np.zeros((2, 2), dtype=bool)
    adv, _ = compute_gae(rewards, values, next_values, flags, flags, GAMMA, 1.0)
    last = 1.0 + GAMMA * 10.0
    first = 1.0 + GAMMA * 10.0 + GAMMA * last
    np.testing.assert_allclose(adv, [[first, first], [last, last]])


def test_it_reduces_to_one_step_td_with_lambda_zero() -> None:
    rng = np.random.default_rng(0)
    rewards, values, next_values = rng.normal(size=(3, 5, 4))
    flags = np.zeros((5, 4), dtype=bool)
    adv, _ = compute_gae(rewards, values, next_values, flags, flags, GAMMA, 0.0)
    np.testing.assert_allclose(adv, rewards + GAMMA * next_values - values)
