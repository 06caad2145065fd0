"""Statistics against hand computations and independent implementations (scipy, explicit loops)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from leaderboard import stats

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


def test_it_computes_iqm_by_hand() -> None:
    # sorted [-50, 1, 2, 3, 4, 5, 6, 100]: int(0.25*8)=2 cut each side, mean of [2, 3, 4, 5] = 3.5
    assert stats.iqm([100, 1, 2, 3, 4, 5, 6, -50]) == pytest.approx(3.5)
    # 5 values: int(1.25)=1 cut each side, mean of [2, 3, 10] = 5
    assert stats.iqm([1, 2, 3, 10, 99]) == pytest.approx(5.0)


@given(st.lists(finite, min_size=1, max_size=40))
@settings(max_examples=60, deadline=None)
def test_it_matches_scipy_trim_mean(values: list[float]) -> None:
    assert stats.iqm(values) == pytest.approx(scipy.stats.trim_mean(values, 0.25), rel=1e-9, abs=1e-6)


def test_it_rejects_empty_and_non_finite_samples() -> None:
    with pytest.raises(ValueError):
        stats.iqm([])
    with pytest.raises(ValueError):
        stats.bootstrap_mean([1.0, float("nan")])


def test_it_gives_a_zero_width_interval_for_one_seed() -> None:
    assert stats.bootstrap_mean([3.0]).as_tuple() == (3.0, 3.0, 3.0)


def test_it_bootstraps_the_mean_like_an_explicit_loop() -> None:
    x = np.array([1.0, 4.0, 2.0, 8.0, 5.0])
    est = stats.bootstrap_mean(x, reps=500, seed=7)
    rng = np.random.default_rng(7)
    idx = rng.integers(0, 5, size=(500, 5))
    means = [x[row].mean() for row in idx]
    assert est.value == pytest.approx(4.0)
    assert est.low == pytest.approx(np.percentile(means, 2.5))
    assert est.high == pytest.approx(np.percentile(means, 97.5))


def test_it_is_reproducible_for_a_seed_and_varies_across_seeds() -> None:
    x = [0.3, 1.7, 2.2, 5.1, 0.9, 3.3]
    assert stats.bootstrap_mean(x, seed=1) == stats.bootstrap_mean(x, seed=1)
    assert stats.bootstrap_mean(x, seed=1) != stats.bootstrap_mean(x, seed=2)


def test_it_covers_the_hand_computed_bootstrap_distribution() -> None:
    # Resampling [0, 1] gives means 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4: the 2.5th percentile is 0
    # and the 97.5th is 1 (each extreme has 25% mass).
    est = stats.bootstrap_mean([0.0, 1.0], reps=4000, seed=0)
    assert est.as_tuple() == (0.5, 0.0, 1.0)


def test_it_normalizes_random_to_zero_and_reference_to_one() -> None:
    assert stats.normalize([-200.0, 300.0, 50.0], -200.0, 300.0).tolist() == [0.0, 1.0, 0.5]
    # lower-is-better tasks: the reference still maps to 1
    assert stats.normalize(10.0, 100.0, 10.0) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        stats.normalize(1.0, 5.0, 5.0)


def test_it_computes_auc_by_hand() -> None:
    # Points (100, 0), (200, 10), (400, 10) on a budget of 400: held at 0 over [0, 100] (area 0),
    # ramp to 10 over [100, 200] (area 500), flat 10 over [200, 400] (area 2000) -> 2500 / 400 = 6.25.
    assert stats.auc_at_budget([100, 200, 400], [0, 10, 10], 400) == pytest.approx(6.25)


def test_it_holds_the_last_value_and_clips_at_the_budget() -> None:
    # Curve ends at 200 with 10: held to the budget 400 -> (0..100: 0) + (100..200: 500) + (200..400: 2000)
    assert stats.auc_at_budget([100, 200], [0, 10], 400) == pytest.approx(6.25)
    # A point past the budget only contributes through the interpolated value at the budget (5 at 200).
    assert stats.auc_at_budget([0, 400], [0, 10], 200) == pytest.approx(2.5)


def test_it_ignores_unsorted_order_and_nan_points() -> None:
    assert stats.auc_at_budget([400, float("nan"), 100, 200], [10, 3, 0, 10], 400) == pytest.approx(6.25)
    with pytest.raises(ValueError):
        stats.auc_at_budget([], [], 10)


def test_it_computes_a_constant_curve_auc_as_that_constant() -> None:
    assert stats.auc_at_budget([50, 100, 150], [-3, -3, -3], 1000) == pytest.approx(-3.0)


def test_it_pools_runs_for_the_stratified_iqm_point_estimate() -> None:
    tasks = [[0.1, 0.5, 0.9], [0.2, 2.0], [0.3, 0.4, 0.6]]
    pooled = [v for t in tasks for v in t]
    est = stats.stratified_iqm(tasks, reps=200, seed=3)
    assert est.value == pytest.approx(scipy.stats.trim_mean(pooled, 0.25))
    assert est.low <= est.value <= est.high


def test_it_resamples_within_tasks_only() -> None:
    # Task A is always [0, 0, 0] and task B always [1]: a stratified resample is always [0, 0, 0, 1]
    # whose IQM (cut 1 each side) is 0, so the interval has zero width. Pooled resampling would not.
    est = stats.stratified_iqm([[0.0, 0.0, 0.0], [1.0]], reps=300, seed=0)
    assert est.as_tuple() == (0.0, 0.0, 0.0)


def test_it_matches_an_explicit_stratified_loop() -> None:
    tasks = [np.array([0.1, 0.5, 0.9, 0.4]), np.array([0.2, 2.0, 1.1])]
    est = stats.stratified_iqm(tasks, reps=300, seed=11)
    rng = np.random.default_rng(11)
    draws = [rng.integers(0, t.size, size=(300, t.size)) for t in tasks]
    reps = [
        scipy.stats.trim_mean(np.concatenate([t[d[i]] for t, d in zip(tasks, draws, strict=True)]), 0.25)
        for i in range(300)
    ]
    assert est.low == pytest.approx(np.percentile(reps, 2.5))
    assert est.high == pytest.approx(np.percentile(reps, 97.5))


def test_it_computes_probability_of_improvement_by_hand() -> None:
    # Task 1: x=[3, 5], y=[1, 4]: pairs 3>1, 3<4, 5>1, 5>4 -> 3/4.  Task 2: x=[2], y=[2]: tie -> 1/2.
    est = stats.probability_of_improvement([[3, 5], [2]], [[1, 4], [2]], reps=200, seed=0)
    assert est.value == pytest.approx((0.75 + 0.5) / 2)
    assert 0.0 <= est.low <= est.value <= est.high <= 1.0


@given(
    st.lists(st.integers(-5, 5), min_size=1, max_size=8),
    st.lists(st.integers(-5, 5), min_size=1, max_size=8),
)
@settings(max_examples=60, deadline=None)
def test_it_matches_the_mann_whitney_u_statistic(x: list[int], y: list[int]) -> None:
    expected = scipy.stats.mannwhitneyu(x, y, alternative="greater").statistic / (len(x) * len(y))
    est = stats.probability_of_improvement([x], [y], reps=10)
    assert est.value == pytest.approx(expected)


def test_it_gives_one_half_against_itself_and_one_when_dominating() -> None:
    x = [[1.0, 2.0, 3.0], [5.0, 6.0]]
    assert stats.probability_of_improvement(x, x, reps=50).value == pytest.approx(0.5)
    est = stats.probability_of_improvement([[10, 11]], [[1, 2, 3]], reps=100)
    assert est.as_tuple() == (1.0, 1.0, 1.0)
    with pytest.raises(ValueError):
        stats.probability_of_improvement([[1]], [[1], [2]])


def test_it_computes_a_performance_profile_by_hand() -> None:
    # Task A: [0.2, 0.6, 1.2] ; task B: [0.5, 1.5]. tau=0.5: A 2/3, B 1/2 (strictly above) -> 7/12.
    # tau=0: A 1, B 1 -> 1. tau=2: 0.
    prof = stats.performance_profile([[0.2, 0.6, 1.2], [0.5, 1.5]], [0.0, 0.5, 2.0], reps=100, seed=0)
    assert prof.fraction == pytest.approx([1.0, 7 / 12, 0.0])
    assert prof.low[0] == prof.high[0] == 1.0
    assert all(lo <= f <= hi for lo, f, hi in zip(prof.low, prof.fraction, prof.high, strict=True))


def test_it_averages_curves_on_a_common_grid() -> None:
    mean, low, high = stats.curve_band([([0, 10], [0, 10]), ([0, 10], [2, 12])], [0, 5, 10])
    assert mean == pytest.approx([1, 6, 11])
    assert all(lo < m < hi for lo, m, hi in zip(low, mean, high, strict=True))
    assert stats.curve_band([([0, 10], [1, 1])], [0, 10]) == ([1.0, 1.0], [1.0, 1.0], [1.0, 1.0])
