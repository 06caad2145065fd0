"""The library's public contract as the issue states it: metric names, evaluation protocol, no web imports."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests.trainer.conftest import TINY
from trainer import METRIC_NAMES, evaluate, train

# Spelled out here, not taken from the library: renaming one breaks stored runs and charts, so it must fail a test.
PROMISED_METRICS = {
    "rollout/ep_return_mean", "rollout/ep_len_mean", "train/kl", "train/surrogate_gain", "train/expected_gain",
    "train/line_search_steps", "train/step_accepted", "train/cg_residual", "train/entropy", "train/value_loss",
    "train/explained_variance", "time/steps", "time/steps_per_s",
}  # fmt: skip


def test_every_promised_metric_name_is_emitted() -> None:
    assert set(METRIC_NAMES) >= PROMISED_METRICS


def test_evaluation_plays_fixed_seeds_and_reports_every_episode() -> None:
    agent = train(TINY, "CartPole-v1", total_steps=256, seed=3).agent
    first = evaluate(agent, "CartPole-v1", episodes=4, seed=100)
    again = evaluate(agent, "CartPole-v1", episodes=4, seed=100)
    other = evaluate(agent, "CartPole-v1", episodes=4, seed=200)
    assert len(first.returns) == len(first.lengths) == 4
    assert first.returns == again.returns and first.lengths == again.lengths, "same seeds, same episodes"
    assert first.returns == [float(n) for n in first.lengths], "CartPole pays 1 per step"
    assert first.returns != other.returns or first.lengths != other.lengths
    sampled = evaluate(agent, "CartPole-v1", episodes=4, seed=100, deterministic=False)
    assert sampled.returns == evaluate(agent, "CartPole-v1", episodes=4, seed=100, deterministic=False).returns
    assert np.isclose(first.mean, np.mean(first.returns))


def test_the_library_imports_nothing_from_the_web_app() -> None:
    code = (
        "import sys, trainer, trainer.__main__\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'web', 'leaderboard', 'celery'})\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_train_says_how_to_build_a_config_when_given_a_dict() -> None:
    with pytest.raises(
        TypeError, match=r"config must be a TRPOConfig \(TRPOConfig.from_dict\(d\) builds one\), not dict"
    ):
        train({"n_steps": 64}, "CartPole-v1", total_steps=64)  # type: ignore[arg-type]
