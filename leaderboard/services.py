"""Recompute the precomputed leaderboard rows from finished runs.

Each function runs a fixed number of queries whatever the number of runs (no query per row), is idempotent
(running it twice leaves the same rows), and serialises concurrent refreshes of one board by locking its
environment row, so two workers finishing seeds of the same entry at once cannot interleave a rerank.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.db.models.fields.json import KT
from django.utils import timezone

from leaderboard import charts, ranking, stats
from leaderboard.models import Board, LeaderboardEntry, OverallEntry
from leaderboard.tasks import request_environment_refresh, request_overall_refresh
from web.catalog.models import Environment, TrainerConfig
from web.release import running_release
from web.runs.models import Run, RunMetric, RunStatus

log = logging.getLogger(__name__)

RETURN_METRIC = "rollout/ep_return_mean"
CURVE_POINTS = 100


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _mean(values: Iterable[float | None]) -> float | None:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(finite)) if finite else None


def _curves(run_ids: list[int]) -> dict[int, tuple[list[float], list[float]]]:
    """Each run's (steps, episode-return) learning curve, read in one query of two scalar columns."""
    rows = (
        RunMetric.objects.filter(run_id__in=run_ids)
        .annotate(ret=KT(f"metrics__{RETURN_METRIC}"))
        .order_by("run_id", "update")
        .values_list("run_id", "steps", "ret")
    )
    curves: dict[int, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    for run_id, steps, ret in rows:
        value = _float(ret)
        if value is not None:
            curves[run_id][0].append(float(steps))
            curves[run_id][1].append(value)
    return curves


def _one_per_seed(runs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep the earliest run of each seed with a finite final score (rows come ordered by seed, then id).

    A reproduction reruns the same seeds; counting it as more seeds would shrink the interval with evidence
    that is not independent. The original run stays the record; reproductions show on the entry page.
    """
    seen: set[int] = set()
    out = []
    for r in runs:
        if r["seed"] not in seen and _float(r["final_return_mean"]) is not None:
            seen.add(r["seed"])
            out.append(r)
    return out


def compute_entry(env: Environment, runs: list[dict[str, Any]], curves: dict[int, Any]) -> dict[str, Any]:
    """The aggregate numbers of one entry from its finished runs (plain values, no queries)."""
    finals = [r["final_return_mean"] for r in runs]
    # The IQM pools every evaluation episode, and the AUC averages every run's curve, only when every run has
    # them: from a subset (rows from before the field existed, a run whose metrics were lost) they would describe
    # other seeds than the score does. Without episodes the IQM falls back to the runs' final means.
    every_episode = [[x for x in (r["eval_returns"] or []) if _float(x) is not None] for r in runs]
    episodes = [x for run_episodes in every_episode for x in run_episodes] if all(every_episode) else []
    score = stats.bootstrap_mean(finals)
    run_curves = [curves[r["id"]] for r in runs if r["id"] in curves]
    every_curve = len(run_curves) == len(runs)
    aucs = [stats.auc_at_budget(*c, env.budget_steps) for c in run_curves] if every_curve else []
    curve: dict[str, Any] = {}
    if run_curves:
        first = min(c[0][0] for c in run_curves)
        grid = np.linspace(min(first, env.budget_steps), env.budget_steps, CURVE_POINTS)
        mean, low, high = stats.curve_band(run_curves, grid)
        # "seeds": how many runs the band is drawn from, which the chart's legend states when it is not all of them.
        curve = {"steps": grid.round().tolist(), "mean": mean, "low": low, "high": high, "seeds": len(run_curves)}
    return {
        "n_seeds": len(runs),
        "score_mean": score.value,
        "ci_low": score.low,
        "ci_high": score.high,
        "iqm": stats.iqm([float(x) for x in episodes] if episodes else finals),
        "auc": _mean(aucs),
        "wall_clock_s": _mean(r["wall_clock_s"] for r in runs),
        "steps_per_s": _mean(r["steps_per_s"] for r in runs),
        "final_scores": finals,
        "seeds": [r["seed"] for r in runs],
        "curve": curve,
        "provisional": len(runs) < env.min_seeds,
    }


def refresh_entry(
    config_id: int, environment_id: int, *, rerank: bool = True, overall: bool = True
) -> LeaderboardEntry | None:
    """Recompute one (config, environment) entry, rerank its board, rebuild its figures (and the overall).

    Returns the entry, or ``None`` when the config has no finished run there (any stale entry is deleted).
    ``rerank`` and ``overall`` exist so a full rebuild can rank each board once instead of once per entry.
    """
    with transaction.atomic():
        env = Environment.objects.select_for_update().get(pk=environment_id)
        runs = _one_per_seed(
            Run.objects.filter(
                config_id=config_id,
                environment_id=environment_id,
                status=Run.Status.SUCCEEDED,
                final_return_mean__isnull=False,
            )
            .order_by("seed", "id")
            .values("id", "seed", "final_return_mean", "eval_returns", "wall_clock_s", "steps_per_s")
        )
        entry = None
        if runs:
            values = compute_entry(env, runs, _curves([r["id"] for r in runs]))
            entry, _ = LeaderboardEntry.objects.update_or_create(
                config_id=config_id, environment_id=environment_id, defaults=values
            )
        else:
            LeaderboardEntry.objects.filter(config_id=config_id, environment_id=environment_id).delete()
        if rerank:
            rerank_environment(env)
    if overall:
        refresh_overall()
    if entry is not None:
        entry.refresh_from_db(fields=["rank", "tied", "provisional", "updated_at"])
    return entry


def rerank_environment(env: Environment) -> None:
    """Rank an environment's entries (see :mod:`leaderboard.ranking`) and rebuild its board's figures."""
    entries = list(LeaderboardEntry.objects.filter(environment=env).select_related("config").order_by("pk"))
    results = ranking.rank(
        [ranking.Candidate(e.pk, e.score_mean, e.ci_low, e.ci_high, e.n_seeds, env.min_seeds) for e in entries]
    )
    by_pk = {e.pk: e for e in entries}
    ordered, changed = [], []
    now = timezone.now()
    for r in results:
        e = by_pk[r.key]
        if (e.rank, e.tied, e.provisional) != (r.rank, r.tied, r.provisional):
            # updated_at versions the entry page's cache, so a rank that moved must bump it.
            e.rank, e.tied, e.provisional, e.updated_at = r.rank, r.tied, r.provisional, now
            changed.append(e)
        ordered.append(e)
    if changed:
        LeaderboardEntry.objects.bulk_update(changed, ["rank", "tied", "provisional", "updated_at"], batch_size=500)
    figures = charts.environment_figures(env, ordered)
    _save_board(f"env-{env.pk}", env, figures, len(entries))


def _save_board(key: str, env: Environment | None, figures: dict[str, str], n: int) -> None:
    fields = {"figures": figures, "n_entries": n, "release": running_release()}
    try:
        with transaction.atomic():
            Board.objects.update_or_create(key=key, defaults={"environment": env, **fields})
    except IntegrityError:  # a concurrent first creation won; ours is the newer content
        Board.objects.filter(key=key).update(**fields)


def rebuild_boards_of_other_releases() -> int:
    """Rebuild the figures of every board that another release built; returns how many were rebuilt.

    Boards store their figures, built by the code of their day, and are rebuilt only when their data changes: a
    deploy that changed a chart (a label, an empty-state sentence, hover formats) left the old figures on every
    board whose runs did not change. Run by the control worker under beat; one query when nothing is stale.
    """
    release = running_release()
    stale = list(Board.objects.exclude(release=release).order_by("pk").values_list("key", "environment_id"))
    rebuilt = 0
    for key, environment_id in stale:
        try:  # one board that fails (its environment deleted meanwhile) must not keep the others stale
            if environment_id is not None:
                with transaction.atomic():  # the lock refresh_entry takes: a worker's rerank cannot interleave
                    env = Environment.objects.select_for_update().filter(pk=environment_id).first()
                    if env is not None:
                        rerank_environment(env)
            elif key == "overall":
                refresh_overall()
            rebuilt += 1
        except Exception:
            log.exception("board %s: rebuild by release %s failed", key, release)
    if stale:
        log.info("rebuilt %d of %d board(s) built by another release than %s", rebuilt, len(stale), release)
    return rebuilt


def _default_config_id() -> int | None:
    return (
        TrainerConfig.objects.filter(is_default=True).order_by("-created_at", "-pk")
        .values_list("pk", flat=True).first()
    )  # fmt: skip


def overall_scores() -> dict[int, dict[int, np.ndarray]]:
    """Normalised final scores of confirmed entries: ``{config_id: {environment_id: scores}}``.

    Only non-provisional entries count (an entry short of the minimum seeds is not yet comparable), only on
    environments included in the overall board (``counts_overall``: shipped, or included by staff; anyone signed in
    may register an environment, and one with a run would otherwise make every other config provisional), and only
    where the reference return differs from the random return (the scale is otherwise undefined).
    """
    rows = LeaderboardEntry.objects.filter(provisional=False, environment__counts_overall=True).values_list(
        "config_id", "environment_id", "final_scores",
        "environment__random_return", "environment__reference_return",
    )  # fmt: skip
    out: dict[int, dict[int, np.ndarray]] = defaultdict(dict)
    for config_id, env_id, finals, rnd, ref in rows:
        if finals and rnd is not None and ref is not None and rnd != ref:
            out[config_id][env_id] = stats.normalize(finals, rnd, ref)
    return out


def compute_overall(scores: dict[int, dict[int, np.ndarray]], default_id: int | None) -> list[OverallEntry]:
    """Overall rows (unsaved) from normalised scores; ranks with the same tie rule as a board."""
    all_envs = {env for per_env in scores.values() for env in per_env}
    default = scores.get(default_id, {}) if default_id is not None else {}
    rows: dict[int, OverallEntry] = {}
    for config_id, per_env in scores.items():
        envs = sorted(per_env)
        agg = stats.stratified_iqm([per_env[e] for e in envs])
        row = OverallEntry(
            config_id=config_id, iqm=agg.value, ci_low=agg.low, ci_high=agg.high,
            n_envs=len(envs), n_runs=sum(len(per_env[e]) for e in envs),
        )  # fmt: skip
        shared = [e for e in envs if e in default]
        if shared and config_id != default_id:
            poi = stats.probability_of_improvement([per_env[e] for e in shared], [default[e] for e in shared])
            row.poi, row.poi_low, row.poi_high = poi.as_tuple()
        row.poi_n_envs = len(shared) if config_id != default_id else 0
        rows[config_id] = row
    results = ranking.rank(
        [ranking.Candidate(k, r.iqm, r.ci_low, r.ci_high, r.n_envs, len(all_envs)) for k, r in rows.items()]
    )
    ordered = []
    for res in results:
        row = rows[res.key]
        row.rank, row.tied, row.provisional = res.rank, res.tied, res.provisional
        ordered.append(row)
    return ordered


def refresh_overall() -> list[OverallEntry]:
    """Recompute every OverallEntry and the overall board's figures (a fixed number of queries).

    On PostgreSQL, read, compute and write happen under a lock on the overall board's row: two workers finishing
    seeds at once would otherwise both read, and the slower one (the bootstraps take most of a second at 250
    configs) would write a board that lacks the other's entry, wrong until the next run finishes. SQLite (the
    embedded setup, one worker) has no row locks, and a transaction there would hold the whole database's write
    lock through the bootstraps: it computes outside one, as before.
    """
    if not connection.features.has_select_for_update:
        return _rebuild_overall()
    with transaction.atomic():
        Board.objects.get_or_create(key="overall", defaults={"figures": {}, "n_entries": 0})
        Board.objects.select_for_update().filter(key="overall").values_list("pk", flat=True).get()
        return _rebuild_overall()


def _rebuild_overall() -> list[OverallEntry]:
    fields = [
        "iqm", "ci_low", "ci_high", "poi", "poi_low", "poi_high", "poi_n_envs",
        "n_envs", "n_runs", "rank", "tied", "provisional", "updated_at",
    ]  # fmt: skip
    scores = overall_scores()
    rows = compute_overall(scores, _default_config_id())
    with transaction.atomic():
        OverallEntry.objects.exclude(config_id__in=list(scores)).delete()
        if rows:
            OverallEntry.objects.bulk_create(
                rows, update_conflicts=True, unique_fields=["config"], update_fields=fields, batch_size=500
            )
    configs = TrainerConfig.objects.filter(pk__in=list(scores)).values_list("pk", "name", "version")
    labels = {pk: f"{name} v{version}" for pk, name, version in configs}
    _save_board("overall", None, charts.overall_figures(rows, scores, labels), len(rows))
    return rows


def recompute_all() -> tuple[int, int]:
    """Rebuild every entry, every board and the overall board; returns (entries, overall rows)."""
    pairs = (
        Run.objects.filter(status=Run.Status.SUCCEEDED)
        .values_list("config_id", "environment_id").distinct().order_by()
    )  # fmt: skip
    wanted = set(pairs)
    stale = LeaderboardEntry.objects.values_list("config_id", "environment_id")
    for config_id, env_id in set(stale) - wanted:
        LeaderboardEntry.objects.filter(config_id=config_id, environment_id=env_id).delete()
    for config_id, env_id in sorted(wanted):
        refresh_entry(config_id, env_id, rerank=False, overall=False)
    for env in Environment.objects.order_by("pk"):
        rerank_environment(env)
    return len(wanted), len(refresh_overall())


def refresh_environment(environment_id: int) -> int:
    """Recompute every entry of one environment, rank its board once, then the overall board; returns the entries.

    What an environment's own fields feed: the provisional flag (``min_seeds``), each entry's AUC and curve grid
    (``budget_steps``), and the overall board's normalised scores (``random_return``, ``reference_return``). An
    edit to them changes no run, so no ``run_finished`` would ever bring its boards up to date.
    """
    config_ids = sorted(
        set(
            Run.objects.filter(environment_id=environment_id, status=Run.Status.SUCCEEDED)
            .values_list("config_id", flat=True).distinct().order_by()
        )
        | set(LeaderboardEntry.objects.filter(environment_id=environment_id).values_list("config_id", flat=True))
    )  # fmt: skip
    for config_id in config_ids:
        refresh_entry(config_id, environment_id, rerank=False, overall=False)
    with transaction.atomic():  # under the row lock refresh_entry takes, so a worker's rerank cannot interleave
        rerank_environment(Environment.objects.select_for_update().get(pk=environment_id))
    refresh_overall()
    return len(config_ids)


# The environment fields the stored boards are computed from: ``min_seeds`` (provisional), ``budget_steps`` (AUC and
# curve grid), the score scale and ``counts_overall`` (the overall board). Pages read the rest live.
BOARD_FIELDS = ("budget_steps", "min_seeds", "random_return", "reference_return", "counts_overall")


def _stored_values(instance: Any, fields: Iterable[str], raw: bool) -> dict[str, Any] | None:
    """The row's stored values of ``fields`` before a save (None for a new row or a fixture load), noted by the
    ``pre_save`` receivers so the ``post_save`` ones act only when one of them changes."""
    if raw or instance.pk is None:
        return None
    return type(instance).objects.filter(pk=instance.pk).values(*fields).first()


def _changed(instance: Any, stored: dict[str, Any] | None) -> bool:
    return stored is not None and any(stored[name] != getattr(instance, name) for name in stored)


def remember_board_fields(sender: object, instance: Environment, raw: bool = False, **kwargs: Any) -> None:
    """``pre_save`` receiver for Environment: note the stored board fields, so ``on_environment_saved`` rebuilds
    the boards only when one of them changes (not on every edit of a description)."""
    instance._stored_board_fields = _stored_values(instance, BOARD_FIELDS, raw)  # type: ignore[attr-defined]


def on_environment_saved(
    sender: object, instance: Environment, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """``post_save`` receiver for Environment: after an edit of a board field commits, have its boards rebuilt.

    The rebuild runs on the ``control`` worker (:mod:`leaderboard.tasks`), not in the admin's request: recomputing
    every entry's statistics takes seconds on a busy environment. A new environment has no entries yet, and a
    fixture load (``raw``) is no edit. Like :func:`on_run_finished`, a failure is logged, not raised: the edit
    itself is saved, and ``manage.py recompute_leaderboard`` can rebuild.
    """
    if created or raw or not _changed(instance, getattr(instance, "_stored_board_fields", None)):
        return
    environment_id = instance.pk
    transaction.on_commit(lambda: request_environment_refresh(environment_id))


def remember_default(sender: object, instance: TrainerConfig, raw: bool = False, **kwargs: Any) -> None:
    """``pre_save`` receiver for TrainerConfig: note whether it was the default, for :func:`on_config_saved`."""
    instance._stored_default = _stored_values(instance, ("is_default",), raw)  # type: ignore[attr-defined]


def on_config_saved(sender: object, instance: TrainerConfig, created: bool, raw: bool = False, **kwargs: Any) -> None:
    """``post_save`` receiver for TrainerConfig: when the default changes, have the overall board rebuilt, since
    every config's P(improvement) there is against the default (it went stale until the next run finished)."""
    stored = {"is_default": False} if created else getattr(instance, "_stored_default", None)
    if not raw and _changed(instance, stored):
        transaction.on_commit(request_overall_refresh)


class _PairsToRefresh:
    """One commit callback for every run a transaction deletes: a deleted user's runs go in one cascade, one
    ``run_deleted`` per run, and their pairs are recomputed once after the commit. Being a callback of that
    transaction, it is dropped with a rollback."""

    def __init__(self) -> None:
        self.pairs: set[tuple[int, int]] = set()
        self.done = False

    def __call__(self) -> None:
        self.done = True
        pairs = sorted(self.pairs)
        try:
            for config_id, env_id in pairs:
                refresh_entry(config_id, env_id, rerank=False, overall=False)
            for env_id in sorted({env_id for _, env_id in pairs}):
                with transaction.atomic():
                    rerank_environment(Environment.objects.select_for_update().get(pk=env_id))
            refresh_overall()
        except Exception:
            log.exception("leaderboard refresh failed after deleting runs of %s", pairs)


def on_run_deleted(sender: object, run: Run, **kwargs: Any) -> None:
    """Receiver for ``web.runs.signals.run_deleted``: after the deletion commits, recompute each pair it touched,
    every entry once, each board's ranks once and the overall board once."""
    pair = (run.config_id, run.environment_id)
    current = transaction.get_connection()
    if current.in_atomic_block:
        for _, callback, _ in current.run_on_commit:
            if isinstance(callback, _PairsToRefresh) and not callback.done:
                callback.pairs.add(pair)
                return
    batch = _PairsToRefresh()
    batch.pairs.add(pair)
    transaction.on_commit(batch)  # outside a transaction this runs at once


def on_run_finished(sender: object, run: Run, **kwargs: Any) -> None:
    """Signal receiver for ``web.runs.signals.run_finished``: refresh after the run's row is committed.

    A failure here is logged, not raised: the run itself succeeded, and ``manage.py recompute_leaderboard``
    can rebuild the boards; breaking the worker would lose more than a stale row.
    """
    if run.status != RunStatus.SUCCEEDED:
        # Only succeeded runs count on a board: a failed or cancelled one cannot change it (and a cancel of a
        # queued run, announced from the web request, would rebuild the boards inside it).
        return
    config_id, env_id = run.config_id, run.environment_id

    def refresh() -> None:
        try:
            refresh_entry(config_id, env_id)
        except Exception:
            log.exception("leaderboard refresh failed for config %s on environment %s", config_id, env_id)

    transaction.on_commit(refresh)
