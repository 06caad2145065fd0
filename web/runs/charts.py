"""Plotly figures of one run's updates, built from plain rows so any page (or the leaderboard) can reuse them.

A row is ``{"update": int, "steps": int, "metrics": {name: value}}`` with the trainer's metric names. Each trace
carries ``meta = {"metric": name, "x": key}`` so the run page's script can append new updates to it live
without knowing which chart it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

from web import numbers

Row = Mapping[str, Any]


@dataclass(frozen=True)
class ChartSpec:
    key: str
    title: str
    metric: str
    x: str  # "steps" or "update"
    x_title: str
    y_title: str
    mode: str = "lines+markers"
    y_format: str = numbers.D3_SIG3
    """How hover labels print the metric (d3-format), by the site's rules (web/numbers.py)."""
    whole_numbers: bool = False
    """A count (line-search steps): axis ticks at whole numbers only, never 0.2 or 0.4 of a step."""


LEARNING_CURVE = ChartSpec(
    "learning_curve", "Learning curve", "rollout/ep_return_mean", "steps", "environment steps", "mean episode return",
    y_format=numbers.D3_RETURN,
)  # fmt: skip
KL = ChartSpec("kl", "KL divergence per update (dashed: δ = max_kl)", "train/kl", "update", "update", "mean KL")
LINE_SEARCH = ChartSpec(
    "line_search", "Line-search backtracking steps", "train/line_search_steps", "update", "update", "steps", "markers",
    y_format=numbers.D3_STEPS, whole_numbers=True,
)  # fmt: skip
ENTROPY = ChartSpec("entropy", "Policy entropy", "train/entropy", "update", "update", "entropy")
RUN_CHARTS = (LEARNING_CURVE, KL, LINE_SEARCH, ENTROPY)


SPECS_BY_KEY = {spec.key: spec for spec in RUN_CHARTS}


def chart_label(key: str) -> str:
    """A run chart's accessible name: its box is a ``<figure>`` named by ``aria-label`` (a screen reader cannot read
    the SVG), so the name says what it plots. Empty for a key that is not a run chart."""
    spec = SPECS_BY_KEY.get(key)
    return f"{spec.title}: chart of {spec.y_title} against {spec.x_title}" if spec else ""


def series(rows: Iterable[Row], metric: str, x: str) -> tuple[list[float], list[float | None]]:
    """The (x, y) points of one metric; missing values stay None so Plotly leaves a gap."""
    xs: list[float] = []
    ys: list[float | None] = []
    for row in rows:
        xs.append(row[x])
        ys.append(row["metrics"].get(metric))
    return xs, ys


DELTA_METRIC = "train/max_kl"
DELTA_COLOR = "#c0392b"


def build_figure(
    spec: ChartSpec,
    rows: Sequence[Row],
    *,
    max_kl: float | None = None,
    max_kl_schedule: str = "constant",
    name: str = "",
) -> go.Figure:
    """One chart of one run. On the KL chart δ is a dashed line: flat for a constant trust region, and for a
    scheduled one (``max_kl_schedule`` other than constant) the δ each update used, a trace the page extends live.
    """
    xs, ys = series(rows, spec.metric, spec.x)
    fig = go.Figure(
        go.Scatter(x=xs, y=ys, mode=spec.mode, name=name or spec.metric, meta={"metric": spec.metric, "x": spec.x})
    )
    if spec is KL and max_kl_schedule != "constant":
        dx, dy = series(rows, DELTA_METRIC, spec.x)
        fig.add_trace(
            go.Scatter(
                x=dx, y=dy, mode="lines", name="δ", line={"dash": "dash", "color": DELTA_COLOR},
                meta={"metric": DELTA_METRIC, "x": spec.x},
            )
        )  # fmt: skip
    elif spec is KL and max_kl is not None:
        fig.add_hline(y=max_kl, line_dash="dash", line_color=DELTA_COLOR, annotation_text="δ")
    fig.update_layout(
        title={"text": spec.title, "font": {"size": 14}},
        xaxis_title=spec.x_title,
        yaxis_title=spec.y_title,
        xaxis_hoverformat=numbers.D3_STEPS,  # environment steps or the update's number: whole
        yaxis_hoverformat=spec.y_format,
        margin={"l": 50, "r": 10, "t": 40, "b": 40},
        height=300,
        showlegend=False,
        template="plotly_white",
    )
    if spec.whole_numbers:
        fig.update_yaxes(tickformat="d", rangemode="tozero", dtick=1)
    return fig


def run_figures(
    rows: Sequence[Row], *, max_kl: float | None = None, max_kl_schedule: str = "constant"
) -> dict[str, go.Figure]:
    """The run page's four figures: learning curve, KL against δ, line-search steps, entropy."""
    return {spec.key: build_figure(spec, rows, max_kl=max_kl, max_kl_schedule=max_kl_schedule) for spec in RUN_CHARTS}


# What a run page says in place of its charts while the run has no update to plot, by status.
NO_UPDATES_NOTES = {
    "queued": "Charts appear after the first update: the run is waiting for a worker.",
    "running": "Charts appear after the first update.",
    "failed": "No updates recorded: the run failed before its first update.",
    "cancelled": "No updates recorded: the run was cancelled before its first update.",
}


def no_updates_note(status: str) -> str:
    """The sentence a run page shows instead of empty axes while it has no update (a live run's page swaps it for
    the charts when the first update arrives)."""
    return NO_UPDATES_NOTES.get(status, "No updates recorded.")


def page_figures(
    rows: Sequence[Row], *, live: bool, max_kl: float | None = None, max_kl_schedule: str = "constant"
) -> dict[str, go.Figure]:
    """The figures a run page carries: none for a finished run without updates (it shows
    :func:`no_updates_note`), but a live one's, empty, so its page can draw them when updates arrive."""
    if not rows and not live:
        return {}
    return run_figures(rows, max_kl=max_kl, max_kl_schedule=max_kl_schedule)


def trust_region_of(params: Any) -> dict[str, Any]:
    """``max_kl`` and ``max_kl_schedule`` of a stored config's params (a config saved before the schedule existed
    is constant), as keyword arguments for :func:`build_figure`."""
    if not isinstance(params, dict):
        return {"max_kl": None, "max_kl_schedule": "constant"}
    return {"max_kl": params.get("max_kl"), "max_kl_schedule": params.get("max_kl_schedule", "constant")}


def to_data(fig: go.Figure) -> dict[str, Any]:
    """Plain JSON data (for ``json_script``), with plotly's numpy-aware encoder."""
    return json.loads(fig.to_json())
