"""Plotly figures of the boards, serialised once at refresh time.

Figures are returned as JSON text that is safe inside ``<script type="application/json">`` (``<``, ``>``
and ``&`` escaped as ``\\u003c``…), because config names and parameters are user input. Pages hand the text
to the locally served plotly.js; nothing here runs per request but :func:`figure_height`. A builder with
nothing to draw returns None and the figure is left out: the page puts a sentence in its place, not empty axes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative

from leaderboard import stats
from web import numbers
from web.runs import charts as run_charts

TOP_CURVES = 8
"""Learning curves drawn on a board: more than this many bands become unreadable."""
TOP_BOXES = 20
MAX_PARCOORDS = 500
SCORE_AXIS_CLEARANCE = 45
"""Pixels between the parallel-coordinates plot's right edge (its score axis) and the colour bar."""
PROFILE_CONFIGS = 8
PALETTE = qualitative.Plotly + qualitative.D3
LAYOUT = {"margin": {"l": 60, "r": 20, "t": 40, "b": 50}, "template": "plotly_white", "height": 420}
RETURN_CURVE_FORMATS = {"xaxis_hoverformat": numbers.D3_STEPS, "yaxis_hoverformat": numbers.D3_RETURN}
"""Hover labels of a learning curve (steps against return), by the site's rules (web/numbers.py)."""


def to_json(fig: go.Figure) -> str:
    """Figure JSON with HTML-sensitive characters escaped (still valid JSON)."""
    text = fig.to_json()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# A figure's layout height, the only "height" key our figures set (no trace type we draw has one). In JSON a
# string's quotes are escaped, so a config name cannot contain the key as written here.
_HEIGHT = re.compile(r'"height":\s*(\d+(?:\.\d+)?)')
DEFAULT_HEIGHT = 450
"""plotly.js's height for a layout that sets none."""


def figure_height(text: str) -> int:
    """The height in px a figure's JSON text asks for: its box reserves it before plotly.js draws, so the page does
    not move. Read with a search, not a parse: an entry's figures hold every update of every seed."""
    match = _HEIGHT.search(text)
    return round(float(match.group(1))) if match else DEFAULT_HEIGHT


# Each board figure's accessible name (its box is a <figure> named by aria-label: a screen reader cannot read the
# SVG): what it plots, and where the page gives the same numbers as text. The run charts an entry page shows are
# named by web.runs.charts.chart_label.
FIGURE_LABELS = {
    "profile": "Performance profile: chart of the fraction of each config's runs whose normalised score exceeds τ. "
    "The overall table lists each config's IQM and interval.",
    "curves": "Learning curves: chart of each config's mean return against environment steps, with 95% bands. "
    "The board's table lists each entry's score and AUC.",
    "scores": "Final scores per seed: chart of every seed's final evaluation return, per config. "
    "The board's table lists each entry's mean score and interval.",
    "sensitivity": "Hyperparameter sensitivity: parallel-coordinates chart of the hyperparameters that vary across "
    "configs, against the score. The board's table lists each entry's score.",
}
COMPARE_CURVES = "curves-"
"""Prefix of the compare page's figures, one per environment (``curves-<slug>``)."""


def figure_label(name: str) -> str:
    """The accessible name of the figure ``name`` on a board, an entry or the compare page."""
    if name in FIGURE_LABELS:
        return FIGURE_LABELS[name]
    if name.startswith(COMPARE_CURVES):
        slug = name.removeprefix(COMPARE_CURVES)
        return (
            f"Learning curves on {slug}: chart of both configs' mean return against environment steps, with 95% "
            "bands. The results table lists their scores."
        )
    run_label = run_charts.chart_label(name)
    return f"{run_label}, one line per seed. The runs table lists each seed's final return." if run_label else name


def label(config: Any) -> str:
    return f"{config.name} v{config.version}"


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def colors_for(config_ids: Sequence[int]) -> list[str]:
    """A colour per config that stays the same on every chart and page (keyed on the config's id), so a reader can
    follow one config from board to board; a clash within one chart takes the next free colour."""
    taken: set[int] = set()
    out = []
    for config_id in config_ids:
        slot = config_id % len(PALETTE)
        while slot in taken and len(taken) < len(PALETTE):
            slot = (slot + 1) % len(PALETTE)
        taken.add(slot)
        out.append(PALETTE[slot])
    return out


# Longest config label a chart shows: a legend or axis is as wide as its longest label, and a 50-character name
# took over half a board chart, leaving its plot 130 px wide.
CHART_LABEL_CHARS = 28


def short_label(config: Any) -> str:
    """``label(config)`` cut to CHART_LABEL_CHARS, keeping its version: "a-very-long-config-n… v3"."""
    full = label(config)
    if len(full) <= CHART_LABEL_CHARS:
        return full
    version = f" v{config.version}"
    return config.name[: CHART_LABEL_CHARS - len(version) - 1] + "…" + version


def short_labels(configs: Sequence[Any]) -> list[str]:
    """Short labels, except where two would be the same (they must still tell the configs apart)."""
    shorts = [short_label(c) for c in configs]
    return [s if shorts.count(s) == 1 else label(c) for s, c in zip(shorts, configs, strict=True)]


def curve_label(entry: Any) -> str:
    """An entry's legend name; a band drawn from fewer seeds than the entry has says so (a run without metrics)."""
    drawn = entry.curve.get("seeds", entry.n_seeds)  # curves stored before the count: assume all
    name = short_label(entry.config)
    return name if drawn >= entry.n_seeds else f"{name} ({drawn} of {entry.n_seeds} seeds)"


def band_traces(name: str, x: list[float], mean: list[float], low: list[float], high: list[float],
                color: str) -> list[go.Scatter]:  # fmt: skip
    """A mean line and its confidence band (a closed polygon under the line, same legend group)."""
    return [
        go.Scatter(
            x=list(x) + list(x)[::-1], y=list(high) + list(low)[::-1], fill="toself",
            fillcolor=_rgba(color, 0.18), line={"width": 0}, hoverinfo="skip",
            legendgroup=name, showlegend=False, name=f"{name} 95% band",
        ),
        go.Scatter(x=x, y=mean, mode="lines", name=name, legendgroup=name, line={"color": color, "width": 2}),
    ]  # fmt: skip


def learning_curves(entries: Sequence[Any], budget: int) -> go.Figure | None:
    """Mean evaluation-return curve of the top entries with a 95% band across seeds, over steps.

    None when no entry has a curve (its runs recorded no update): the board says so instead of drawing empty axes.
    """
    shown = [e for e in entries if e.curve][:TOP_CURVES]
    if not shown:
        return None
    fig = go.Figure()
    for e, color in zip(shown, colors_for([e.config_id for e in shown]), strict=True):
        c = e.curve
        fig.add_traces(band_traces(curve_label(e), c["steps"], c["mean"], c["low"], c["high"], color))
    fig.update_layout(
        title="Learning curves (mean and 95% band across seeds)", xaxis_title="environment steps",
        yaxis_title="episode return", xaxis_range=[0, budget], **RETURN_CURVE_FORMATS, **LAYOUT,
    )  # fmt: skip
    return fig


def score_distribution(entries: Sequence[Any]) -> go.Figure | None:
    """Final score of every seed, per entry (box with all points), for the top entries; None when none has one."""
    shown = list(entries[:TOP_BOXES])
    if not any(e.final_scores for e in shown):
        return None
    fig = go.Figure()
    names = short_labels([e.config for e in shown])
    for e, color, name in zip(shown, colors_for([e.config_id for e in shown]), names, strict=True):
        fig.add_trace(
            go.Box(
                y=e.final_scores, name=name, boxpoints="all", jitter=0.4, pointpos=0,
                marker={"color": color}, boxmean=True,
            )
        )  # fmt: skip
    fig.update_layout(title="Final scores per seed", yaxis_title="final evaluation return",
                      yaxis_hoverformat=numbers.D3_RETURN, showlegend=False, **LAYOUT)  # fmt: skip
    return fig


def _dimension(name: str, values: list[Any]) -> dict[str, Any] | None:
    """A parallel-coordinates axis: numbers as they are, booleans and strings as labelled categories."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        nums = [float(v) if v is not None else np.nan for v in values]
        return {"label": name, "values": nums}
    cats = sorted({str(v) for v in values})
    index = {c: i for i, c in enumerate(cats)}
    return {
        "label": name, "values": [index[str(v)] for v in values],
        "tickvals": list(range(len(cats))), "ticktext": cats,
    }  # fmt: skip


def sensitivity(entries: Sequence[Any]) -> go.Figure | None:
    """Parallel coordinates of the hyperparameters that vary across entries, against the score.

    None when no hyperparameter varies (one config, or configs that differ only in name): a chart of the score
    axis alone says nothing, and the board says what it waits for instead."""
    from trainer import TRPOConfig

    rows = list(entries[:MAX_PARCOORDS])
    # A config saved before the trainer gained a field lacks its key and means the default: fill it in, so the
    # field does not "vary" between None and its default.
    defaults = TRPOConfig().to_dict()
    params = [{**defaults, **e.config.params} if isinstance(e.config.params, dict) else {} for e in rows]
    keys = sorted({k for p in params for k in p})
    dims = []
    for k in keys:
        values = [p.get(k) for p in params]
        if len({repr(v) for v in values}) > 1 and (dim := _dimension(k, values)):
            dims.append(dim)
    if not dims:
        return None
    scores = [e.score_mean for e in rows]
    dims.append({"label": "score", "values": scores, "tickformat": numbers.D3_RETURN})
    fig = go.Figure(
        go.Parcoords(
            # The colour bar stands clear of the score axis, the last one: its range labels (centred on the axis) ran
            # under a bar drawn at the default 10 px from the plot.
            line={
                "color": scores,
                "colorscale": "Viridis",
                "showscale": True,
                "colorbar": {"thickness": 14, "xpad": SCORE_AXIS_CLEARANCE},
            },
            dimensions=dims,
        )
    )
    fig.update_layout(title="Hyperparameter sensitivity (parameters that vary, against score)",
                      **{**LAYOUT, "margin": {"l": 60, "r": 120, "t": 80, "b": 30}})  # fmt: skip
    return fig


def environment_figures(env: Any, entries: Sequence[Any]) -> dict[str, str]:
    """The figures of an environment board that have something to draw, as escaped JSON text, from entries in
    display order. A missing name is a chart with no data; the board puts a sentence in its place."""
    if not entries:
        return {}
    built = {
        "curves": learning_curves(entries, env.budget_steps),
        "scores": score_distribution(entries),
        "sensitivity": sensitivity(entries),
    }
    return {name: to_json(fig) for name, fig in built.items() if fig is not None}


def performance_profile(
    rows: Sequence[Any], scores: dict[int, dict[int, np.ndarray]], labels: dict[int, str]
) -> go.Figure | None:
    """Performance profiles (Agarwal et al. 2021): fraction of runs above each normalised score tau; None when no
    config has a score to profile."""
    top = [r for r in rows if scores.get(r.config_id)][:PROFILE_CONFIGS]
    if not top:
        return None
    values = np.concatenate([s for r in top for s in scores[r.config_id].values()])
    taus = np.linspace(min(0.0, float(values.min())), max(1.0, float(values.max())), 61)
    fig = go.Figure()
    for r, color in zip(top, colors_for([r.config_id for r in top]), strict=True):
        per_env = scores[r.config_id]
        prof = stats.performance_profile([per_env[e] for e in sorted(per_env)], taus, reps=500)
        fig.add_traces(band_traces(labels.get(r.config_id, str(r.config_id)), prof.taus, prof.fraction,
                                   prof.low, prof.high, color))  # fmt: skip
    fig.update_layout(
        title="Performance profile (fraction of runs with normalised score > τ)",
        xaxis_title="normalised score τ (random = 0, reference = 1)", yaxis_title="fraction of runs",
        yaxis_range=[0, 1.02], xaxis_hoverformat=numbers.D3_NORMALISED, yaxis_hoverformat=numbers.D3_PROBABILITY,
        **LAYOUT,
    )  # fmt: skip
    return fig


def overall_figures(
    rows: Sequence[Any], scores: dict[int, dict[int, np.ndarray]], labels: dict[int, str]
) -> dict[str, str]:
    profile = performance_profile(rows, scores, labels) if rows else None
    return {} if profile is None else {"profile": to_json(profile)}
