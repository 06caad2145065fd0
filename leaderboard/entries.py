"""An entry page's data: its runs and their figures (learning curves and TRPO diagnostics).

The figures need every update of every seed, so they are built once per entry version and cached under a key
that includes ``updated_at``: a refresh after a new seed finishes changes the key, so no explicit
invalidation is needed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import plotly.graph_objects as go
from django.core.cache import cache
from django.db.models import Count, Max, Q

from leaderboard import charts
from leaderboard.models import LeaderboardEntry
from web.runs import charts as run_charts
from web.runs.models import Run, RunMetric

MAX_RUNS = 200
RUN_COLUMNS = ("pk", "config_id", "environment_id", "seed", "status", "final_return_mean", "final_return_std",
               "wall_clock_s", "steps_per_s", "checkpoint")  # fmt: skip
MAX_UPDATES = 200_000
CACHE_SECONDS = 24 * 3600


def entry_runs(entry: LeaderboardEntry) -> list[Run]:
    """Every run of the entry's config on its environment, any status, seed order (one query, bounded)."""
    return list(
        Run.objects.filter(config_id=entry.config_id, environment_id=entry.environment_id)
        .order_by("seed", "pk")
        .only(*RUN_COLUMNS)[:MAX_RUNS]
    )


def best_checkpoint_run(runs: list[Run]) -> Run | None:
    """The succeeded run with a checkpoint and the highest final evaluation return: the one a visitor who wants
    "the trained agent" of this entry downloads (ties: the lower seed)."""
    finished = [
        r for r in runs
        if r.status == Run.Status.SUCCEEDED and r.checkpoint and r.final_return_mean is not None
    ]  # fmt: skip
    return max(finished, key=lambda r: (r.final_return_mean, -r.seed), default=None)


def runs_signature(entry: LeaderboardEntry) -> str:
    """Changes whenever the entry's run list shows something new: a run queued, started, finished or saved.

    One aggregate query over the (config, environment, status) index; part of the entry page's cache key.
    """
    agg = Run.objects.filter(config_id=entry.config_id, environment_id=entry.environment_id).aggregate(
        n=Count("pk"), last=Max("pk"), started=Count("started_at"), finished=Count("finished_at"),
        latest=Max("finished_at"), saved=Count("pk", filter=~Q(checkpoint="")),
    )  # fmt: skip
    latest = agg["latest"].isoformat() if agg["latest"] else "-"
    return f"{agg['n']}.{agg['last']}.{agg['started']}.{agg['finished']}.{latest}.{agg['saved']}"


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


def _rows_by_run(runs: list[Run]) -> dict[int, list[dict[str, Any]]]:
    """Every update of every finished run, in one query, in the row shape ``web.runs.charts`` reads."""
    ids = [r.pk for r in runs if r.status == Run.Status.SUCCEEDED]
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = RunMetric.objects.filter(run_id__in=ids).order_by("run_id", "update")
    for row in rows.values("run_id", "update", "steps", "metrics")[:MAX_UPDATES]:
        out[row.pop("run_id")].append(row)
    return out


def build_entry_figures(runs: list[Run], params: dict[str, Any] | None = None) -> dict[str, str]:
    """The run page's charts (learning curve and TRPO diagnostics), one trace per seed, as escaped JSON.

    Reuses ``web.runs.charts`` so an entry and a run page plot the same metrics under the same titles.
    """
    by_run = _rows_by_run(runs)
    shown = [r for r in runs if by_run.get(r.pk)]
    figs: dict[str, str] = {}
    if not shown:
        return figs
    for spec in run_charts.RUN_CHARTS:
        # The first seed gets the run page's full figure (titles, axes, the δ line); further seeds only add a
        # trace, since building a whole figure per seed would dominate the page's first view.
        first = shown[0]
        fig = run_charts.build_figure(
            spec, by_run[first.pk], **run_charts.trust_region_of(params), name=f"seed {first.seed}"
        )
        for run in shown[1:]:
            xs, ys = run_charts.series(by_run[run.pk], spec.metric, spec.x)
            fig.add_trace(go.Scatter(x=xs, y=ys, mode=spec.mode, name=f"seed {run.seed}"))
        # δ (the one trace tagged with its metric) keeps its own colour.
        seeds = [trace for trace in fig.data if (trace.meta or {}).get("metric") != run_charts.DELTA_METRIC]
        many = len(shown) > FEW_SEEDS
        for i, trace in enumerate(seeds):
            color = charts.PALETTE[i % len(charts.PALETTE)]
            trace.update(line={"color": color}, marker={"color": color})
            if many:
                # Ten seeds' markers over 200 updates were a solid block of colour: thin lines only, and the
                # line-search steps (markers by nature) as small translucent dots.
                if trace.mode == "markers":
                    trace.update(marker={"color": color, "size": 4, "opacity": 0.5})
                else:
                    trace.update(mode="lines", line={"color": color, "width": 1.2})
        fig.update_layout(showlegend=True)
        figs[spec.key] = charts.to_json(fig)
    return figs


# Up to this many seeds an entry's charts draw each update's marker as a run page does.
FEW_SEEDS = 3


def entry_figures(entry: LeaderboardEntry, runs: list[Run]) -> dict[str, str]:
    key = f"lb:entry-figures:{entry.pk}:{entry.updated_at.timestamp()}"
    figs = cache.get(key)
    if figs is None:
        figs = build_entry_figures(runs, entry.config.params)
        cache.set(key, figs, CACHE_SECONDS)
    return figs
