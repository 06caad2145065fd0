"""Statistics for fair RL evaluation, on plain numbers (numpy only, no Django).

Why these estimators: a handful of seeds per configuration is the norm in RL, so a point estimate alone
invites over-reading noise. Following Agarwal et al., "Deep Reinforcement Learning at the Edge of the
Statistical Precipice" (NeurIPS 2021), every aggregate comes with a bootstrap confidence interval, the
aggregate across tasks is the interquartile mean (robust to outlier runs, yet less noisy than the median),
comparisons use the probability of improvement, and distributions are summarised by performance profiles.

Every bootstrap takes a seed and uses its own :class:`numpy.random.Generator`, so a recompute of the same
data gives the same interval (the leaderboard must not flicker between refreshes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_REPS = 2000
"""Bootstrap resamples: enough for stable 2.5/97.5 percentiles at leaderboard precision."""

DEFAULT_SEED = 0
CONFIDENCE = 0.95

ArrayLike = Sequence[float] | np.ndarray


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a two-sided confidence interval (``low <= high``)."""

    value: float
    low: float
    high: float

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.value, self.low, self.high)


def _as_1d(x: ArrayLike) -> np.ndarray:
    arr = np.asarray(x, dtype=float).reshape(-1)
    if not np.all(np.isfinite(arr)):
        raise ValueError("scores must be finite")
    return arr


def _percentiles(samples: np.ndarray, confidence: float) -> tuple[float, float]:
    alpha = (1.0 - confidence) / 2.0
    low, high = np.percentile(samples, [100.0 * alpha, 100.0 * (1.0 - alpha)])
    return float(low), float(high)


def iqm(x: ArrayLike) -> float:
    """Interquartile mean: the mean of the middle 50% (25% trimmed from each side).

    Matches ``scipy.stats.trim_mean(x, 0.25)``: ``int(0.25 * n)`` values are cut from each end of the sorted
    sample (Agarwal et al. 2021, section 4: IQM is robust to outliers and more statistically efficient than
    the median).
    """
    arr = _as_1d(x)
    if arr.size == 0:
        raise ValueError("iqm of an empty sample")
    return float(_trim_mean_rows(arr[None, :])[0])


def _trim_mean_rows(rows: np.ndarray) -> np.ndarray:
    """25%-trimmed mean of every row of a 2-D array (same cut rule as scipy's ``trim_mean``)."""
    n = rows.shape[1]
    cut = int(0.25 * n)
    ordered = np.sort(rows, axis=1)
    return ordered[:, cut : n - cut].mean(axis=1)


def bootstrap_mean(
    x: ArrayLike, *, reps: int = DEFAULT_REPS, seed: int = DEFAULT_SEED, confidence: float = CONFIDENCE
) -> Estimate:
    """Sample mean with a percentile bootstrap confidence interval.

    Resamples the values with replacement ``reps`` times (indices drawn as one ``(reps, n)`` block from
    ``np.random.default_rng(seed)``) and takes the ``(1-confidence)/2`` and ``(1+confidence)/2`` percentiles
    (numpy's default linear interpolation) of the resampled means. One value gives a zero-width interval:
    there is nothing to resample, which is why such entries are flagged provisional elsewhere.
    """
    arr = _as_1d(x)
    if arr.size == 0:
        raise ValueError("bootstrap of an empty sample")
    mean = float(arr.mean())
    if arr.size == 1:
        return Estimate(mean, mean, mean)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, arr.size, size=(reps, arr.size))
    low, high = _percentiles(arr[idx].mean(axis=1), confidence)
    return Estimate(mean, min(low, mean), max(high, mean))


def normalize(x: ArrayLike | float, random_return: float, reference_return: float) -> np.ndarray:
    """Normalised score: 0 at the random policy's return, 1 at the reference return.

    ``(x - random) / (reference - random)``. Registration requires the reference above the random return (boards
    rank higher returns first); a row stored otherwise still maps its reference to 1. Equal returns make the scale
    undefined and raise.
    """
    span = float(reference_return) - float(random_return)
    if span == 0 or not np.isfinite(span):
        raise ValueError("reference_return must differ from random_return")
    return (np.asarray(x, dtype=float) - float(random_return)) / span


def auc_at_budget(steps: ArrayLike, returns: ArrayLike, budget: float) -> float:
    """Normalised area under a learning curve over ``[0, budget]`` environment steps.

    The curve is the piecewise-linear interpolation of the points ``(steps[i], returns[i])`` (sorted by
    steps, non-finite returns dropped), held constant before the first point and after the last one (exactly
    ``np.interp``). Its trapezoidal integral from 0 to ``budget``, divided by ``budget``, is the average
    return over the training budget: in return units, higher means the configuration learned earlier.
    Points beyond the budget only matter through the interpolated value at ``budget``.
    """
    s = np.asarray(steps, dtype=float).reshape(-1)
    r = np.asarray(returns, dtype=float).reshape(-1)
    if s.shape != r.shape:
        raise ValueError("steps and returns must have the same length")
    if budget <= 0:
        raise ValueError("budget must be positive")
    keep = np.isfinite(s) & np.isfinite(r)
    s, r = s[keep], r[keep]
    if s.size == 0:
        raise ValueError("a learning curve needs at least one finite point")
    order = np.argsort(s, kind="stable")
    s, r = s[order], r[order]
    inside = s[(s > 0) & (s < budget)]
    grid = np.concatenate(([0.0], inside, [float(budget)]))
    values = np.interp(grid, s, r)
    return float(np.trapezoid(values, grid) / budget)


def _resample_tasks(tasks: Sequence[np.ndarray], reps: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Stratified resampling: each task's runs are resampled with replacement, independently of the others.

    Agarwal et al. 2021 (section 4, "stratified bootstrap"): keeping every task in every resample avoids
    intervals that mix task difficulty with run-to-run noise. Returns one ``(reps, n_task)`` block per task.
    """
    return [arr[rng.integers(0, arr.size, size=(reps, arr.size))] for arr in tasks]


def _tasks(scores_by_task: Sequence[ArrayLike]) -> list[np.ndarray]:
    tasks = [_as_1d(t) for t in scores_by_task]
    if not tasks or any(t.size == 0 for t in tasks):
        raise ValueError("every task needs at least one run")
    return tasks


def stratified_iqm(
    scores_by_task: Sequence[ArrayLike],
    *,
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
    confidence: float = CONFIDENCE,
) -> Estimate:
    """IQM of all runs pooled across tasks, with a stratified bootstrap confidence interval.

    ``scores_by_task[m]`` holds the (normalised) scores of every run on task ``m``; tasks may have different
    numbers of runs. The point estimate pools all runs (as rliable's ``aggregate_iqm`` does on a runs×tasks
    matrix); each bootstrap replicate resamples runs within every task independently (Agarwal et al. 2021).
    """
    tasks = _tasks(scores_by_task)
    value = iqm(np.concatenate(tasks))
    rng = np.random.default_rng(seed)
    pooled = np.concatenate(_resample_tasks(tasks, reps, rng), axis=1)
    low, high = _percentiles(_trim_mean_rows(pooled), confidence)
    return Estimate(value, min(low, value), max(high, value))


def _prob_greater(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(X > Y) + 0.5 P(X = Y) over all pairs, along the last axis of batched samples.

    This is the Mann-Whitney U statistic of ``x`` divided by ``len(x) * len(y)`` (ties count one half).
    """
    diff = x[..., :, None] - y[..., None, :]
    return ((diff > 0).astype(float) + 0.5 * (diff == 0)).mean(axis=(-2, -1))


def probability_of_improvement(
    x_by_task: Sequence[ArrayLike],
    y_by_task: Sequence[ArrayLike],
    *,
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
    confidence: float = CONFIDENCE,
) -> Estimate:
    """Probability that a run of X beats a run of Y on a random task, with a stratified bootstrap CI.

    Per task, ``P(X_m > Y_m) = U / (n_x n_y)`` with ``U`` the Mann-Whitney statistic; the result is the mean
    over tasks (Agarwal et al. 2021, section 4). Each replicate resamples X's runs and Y's runs independently
    within every task. ``x_by_task[m]`` and ``y_by_task[m]`` must describe the same task.
    """
    xs, ys = _tasks(x_by_task), _tasks(y_by_task)
    if len(xs) != len(ys):
        raise ValueError("x and y must cover the same tasks")
    value = float(np.mean([_prob_greater(x, y) for x, y in zip(xs, ys, strict=True)]))
    rng = np.random.default_rng(seed)
    bx, by = _resample_tasks(xs, reps, rng), _resample_tasks(ys, reps, rng)
    boot = np.mean([_prob_greater(x, y) for x, y in zip(bx, by, strict=True)], axis=0)
    low, high = _percentiles(boot, confidence)
    return Estimate(value, min(low, value), max(high, value))


@dataclass(frozen=True)
class Profile:
    """A performance profile: ``fraction[i]`` of runs score above ``taus[i]``, with a pointwise CI."""

    taus: list[float]
    fraction: list[float]
    low: list[float]
    high: list[float]


def _profile_rows(tasks: Sequence[np.ndarray], taus: np.ndarray) -> np.ndarray:
    """Per-task fraction above each tau, averaged over tasks; works on ``(..., n)`` batches."""
    per_task = [(t[..., None] > taus).mean(axis=-2) for t in tasks]
    return np.mean(per_task, axis=0)


def performance_profile(
    scores_by_task: Sequence[ArrayLike],
    taus: ArrayLike,
    *,
    reps: int = DEFAULT_REPS,
    seed: int = DEFAULT_SEED,
    confidence: float = CONFIDENCE,
) -> Profile:
    """Run-score distribution: the fraction of runs with normalised score strictly above each ``tau``.

    Agarwal et al. 2021 (section 5, performance profiles): the fraction is computed per task and averaged,
    so every task weighs the same (identical to pooling when all tasks have the same number of runs). The
    band is a pointwise stratified bootstrap percentile interval.
    """
    tasks = _tasks(scores_by_task)
    grid = _as_1d(taus)
    fraction = _profile_rows(tasks, grid)
    rng = np.random.default_rng(seed)
    boot = _profile_rows(_resample_tasks(tasks, reps, rng), grid)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.percentile(boot, [100.0 * alpha, 100.0 * (1.0 - alpha)], axis=0)
    return Profile(
        taus=grid.tolist(),
        fraction=fraction.tolist(),
        low=np.minimum(low, fraction).tolist(),
        high=np.maximum(high, fraction).tolist(),
    )


def curve_band(
    curves: Sequence[tuple[ArrayLike, ArrayLike]], grid: ArrayLike, *, confidence: float = CONFIDENCE
) -> tuple[list[float], list[float], list[float]]:
    """Mean learning curve across seeds on a common step grid, with a normal-approximation band.

    Each ``(steps, returns)`` curve is interpolated onto ``grid`` (as in :func:`auc_at_budget`). The band is
    mean ± z·SE across seeds: a cheap pointwise interval that is good enough to show spread on a chart (the
    ranked numbers use the bootstrap). One curve gives a zero-width band.
    """
    from statistics import NormalDist

    g = _as_1d(grid)
    rows = []
    for steps, returns in curves:
        s, r = np.asarray(steps, dtype=float), np.asarray(returns, dtype=float)
        keep = np.isfinite(s) & np.isfinite(r)
        if keep.any():
            order = np.argsort(s[keep], kind="stable")
            rows.append(np.interp(g, s[keep][order], r[keep][order]))
    if not rows:
        return [], [], []
    mat = np.vstack(rows)
    mean = mat.mean(axis=0)
    se = mat.std(axis=0, ddof=1) / np.sqrt(len(rows)) if len(rows) > 1 else np.zeros_like(mean)
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    return mean.tolist(), (mean - z * se).tolist(), (mean + z * se).tolist()
