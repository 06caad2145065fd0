"""Two configs side by side: what differs in their hyperparameters, and how each does on every environment.

A researcher comparing configs wants the paired view the boards spread over several pages: per environment both
scores with their intervals and the probability that a run of A beats a run of B (the Mann-Whitney statistic over
their final scores, as the overall board's P(improvement)), and that probability averaged over the environments
both are on, with a stratified bootstrap interval (Agarwal et al. 2021).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from django.core.cache import cache

from leaderboard import charts, pagecache, stats
from leaderboard.models import LeaderboardEntry
from web.catalog.models import Environment, TrainerConfig

MAX_CURVE_FIGURES = 6  # environments drawn; the table lists them all
CACHE_SECONDS = 3600


@dataclass(frozen=True)
class EnvironmentComparison:
    environment: Environment
    a: LeaderboardEntry | None
    b: LeaderboardEntry | None
    p_a_beats_b: stats.Estimate | None  # None unless both have final scores here


@dataclass(frozen=True)
class Comparison:
    params: list[tuple[str, Any, Any]]  # the fields whose values differ: (name, A's, B's)
    environments: list[EnvironmentComparison]
    p_a_beats_b: stats.Estimate | None  # over the environments both have scores on
    n_shared: int
    figures: dict[str, str]
    curves_cut: bool = False  # more environments have curves of both than the MAX_CURVE_FIGURES drawn


def _full_params(config: TrainerConfig) -> dict[str, Any]:
    """A config's params with the trainer's defaults for fields it was saved without (they mean the default)."""
    from trainer import TRPOConfig

    params = config.params if isinstance(config.params, dict) else {}
    return {**TRPOConfig().to_dict(), **params}


def params_diff(a: TrainerConfig, b: TrainerConfig) -> list[tuple[str, Any, Any]]:
    pa, pb = _full_params(a), _full_params(b)
    return [(k, pa.get(k), pb.get(k)) for k in sorted(set(pa) | set(pb)) if pa.get(k) != pb.get(k)]


def cached_compare(a: TrainerConfig, b: TrainerConfig) -> Comparison:
    """:func:`compare`, cached: its bootstraps cost about 10 ms per shared environment, and the page is public. The
    key holds both configs' params and every entry's (id, updated_at) with its environment's updated_at, so a
    refreshed entry, an edited unused config or a renamed environment (its slug is in the links) shows at once
    (one small query)."""
    stamps = list(
        LeaderboardEntry.objects.filter(config__in=[a, b])
        .order_by("pk")
        .values_list("pk", "updated_at", "environment__updated_at")
    )
    key = f"lb:compare:{a.pk}:{b.pk}:{pagecache.digest(a.params, b.params, stamps)}"
    hit = cache.get(key)
    if hit is None:
        hit = compare(a, b)
        cache.set(key, hit, CACHE_SECONDS)
    return hit


def compare(a: TrainerConfig, b: TrainerConfig) -> Comparison:
    entries = LeaderboardEntry.objects.filter(config__in=[a, b]).select_related("environment", "config")
    by_env: dict[int, dict[int, LeaderboardEntry]] = {}
    envs: dict[int, Environment] = {}
    for e in entries.defer("environment__description"):
        by_env.setdefault(e.environment_id, {})[e.config_id] = e
        envs[e.environment_id] = e.environment
    rows, shared_a, shared_b = [], [], []
    for env_id in sorted(envs, key=lambda i: envs[i].slug):
        ea, eb = by_env[env_id].get(a.pk), by_env[env_id].get(b.pk)
        p = None
        if ea is not None and eb is not None and ea.final_scores and eb.final_scores:
            p = stats.probability_of_improvement([ea.final_scores], [eb.final_scores])
            shared_a.append(ea.final_scores)
            shared_b.append(eb.final_scores)
        rows.append(EnvironmentComparison(envs[env_id], ea, eb, p))
    overall = stats.probability_of_improvement(shared_a, shared_b) if shared_a else None
    with_curves = [r for r in rows if r.a and r.b and r.a.curve and r.b.curve]
    figures = _figures(a, b, with_curves[:MAX_CURVE_FIGURES])
    return Comparison(params_diff(a, b), rows, overall, len(shared_a), figures, len(with_curves) > MAX_CURVE_FIGURES)


def _figures(a: TrainerConfig, b: TrainerConfig, rows: list[EnvironmentComparison]) -> dict[str, str]:
    """One learning-curve figure per row (environments both configs have a curve on)."""
    color_a, color_b = charts.colors_for([a.pk, b.pk])
    figures = {}
    for row in rows:
        fig = go.Figure()
        for entry, color in ((row.a, color_a), (row.b, color_b)):
            if entry is not None:
                c = entry.curve
                name = charts.curve_label(entry)
                fig.add_traces(charts.band_traces(name, c["steps"], c["mean"], c["low"], c["high"], color))
        fig.update_layout(
            title=f"{row.environment.slug}: learning curves",  # the band is explained above the charts
            xaxis_title="environment steps", yaxis_title="episode return",
            xaxis_range=[0, row.environment.budget_steps], **charts.RETURN_CURVE_FORMATS, **charts.LAYOUT,
        )  # fmt: skip
        figures[f"{charts.COMPARE_CURVES}{row.environment.slug}"] = charts.to_json(fig)
    return figures
