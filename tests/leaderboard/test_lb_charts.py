"""Plotly figures: escaping, parameter axes, and the profile and curve traces."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go

from leaderboard import charts


def entry(name: str, params: dict, score: float, curve: dict | None = None) -> SimpleNamespace:
    config = SimpleNamespace(name=name, version=1, params=params, pk=len(name))
    return SimpleNamespace(config=config, config_id=config.pk, score_mean=score, n_seeds=2,
                           final_scores=[score - 1, score + 1], curve=curve or {})  # fmt: skip


def test_it_escapes_html_in_figure_json() -> None:
    text = charts.to_json(go.Figure(layout={"title": "</script><b>&"}))
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text)["layout"]["title"]["text"] == "</script><b>&"


def test_it_plots_only_parameters_that_vary() -> None:
    rows = [
        entry("a", {"max_kl": 0.01, "gamma": 0.99, "activation": "tanh", "hidden_sizes": [64, 64]}, 10),
        entry("b", {"max_kl": 0.02, "gamma": 0.99, "activation": "relu", "hidden_sizes": [64, 64]}, 20),
    ]
    dims = charts.sensitivity(rows).data[0].dimensions
    assert [d.label for d in dims] == ["activation", "max_kl", "score"]
    assert list(dims[0].ticktext) == ["relu", "tanh"] and list(dims[0].values) == [1, 0]
    assert list(dims[2].values) == [10, 20]


def test_a_missing_field_means_the_trainers_default_not_a_new_value() -> None:
    rows = [
        entry("old", {"max_kl": 0.01}, 10),  # saved before use_sde existed
        entry("new", {"max_kl": 0.02, "use_sde": False}, 20),
        entry("sde", {"max_kl": 0.02, "use_sde": True}, 30),
    ]
    dims = charts.sensitivity(rows).data[0].dimensions
    assert [d.label for d in dims] == ["max_kl", "use_sde", "score"]
    assert list(dims[1].ticktext) == ["False", "True"] and list(dims[1].values) == [0, 0, 1]
    assert [d.label for d in charts.sensitivity(rows[:2]).data[0].dimensions] == ["max_kl", "score"]


def test_there_is_no_sensitivity_chart_while_no_hyperparameter_varies() -> None:
    """One config (or configs equal in every field) gave a chart of the score axis alone: an empty frame."""
    same = {"max_kl": 0.01, "hidden_sizes": [64, 64]}
    assert charts.sensitivity([entry("a", same, 10)]) is None
    assert charts.sensitivity([entry("a", same, 10), entry("b", dict(same), 20)]) is None
    assert charts.sensitivity([entry("a", same, 10), entry("b", {**same, "max_kl": 0.02}, 20)]) is not None


def test_it_draws_a_band_and_a_line_per_entry() -> None:
    curve = {"steps": [0, 10], "mean": [1, 2], "low": [0, 1], "high": [2, 3]}
    fig = charts.learning_curves([entry("a", {}, 1, curve), entry("b", {}, 2)], budget=10)
    assert [t.name for t in fig.data] == ["a v1 95% band", "a v1"]  # b has no curve
    assert list(fig.data[0].y) == [2, 3, 1, 0]


def test_a_band_drawn_from_fewer_seeds_than_the_entry_has_says_so_in_the_legend() -> None:
    curve = {"steps": [0, 10], "mean": [1, 2], "low": [0, 1], "high": [2, 3]}
    fig = charts.learning_curves(
        [entry("a", {}, 1, {**curve, "seeds": 1}), entry("b", {}, 2, {**curve, "seeds": 2}), entry("c", {}, 3, curve)],
        budget=10,
    )
    assert [t.name for t in fig.data if t.showlegend is not False] == ["a v1 (1 of 2 seeds)", "b v1", "c v1"]


def test_it_builds_no_figures_for_an_empty_board() -> None:
    assert charts.environment_figures(SimpleNamespace(budget_steps=10), []) == {}
    assert charts.overall_figures([], {}, {}) == {}


def test_it_draws_performance_profiles_from_normalised_scores() -> None:
    row = SimpleNamespace(config_id=1)
    fig = charts.performance_profile([row], {1: {7: np.array([0.2, 0.8]), 8: np.array([1.2])}}, {1: "cfg v1"})
    line = fig.data[1]
    assert line.name == "cfg v1" and line.y[0] == 1.0 and line.y[-1] == 0.0


def test_a_config_keeps_its_colour_on_every_chart_whatever_its_position() -> None:
    """Colours by row position made one config red on one board and green on the next."""
    from leaderboard.charts import PALETTE, colors_for

    first = colors_for([7, 3, 12])
    second = colors_for([12, 40, 7])
    assert first[0] == second[2] and first[2] == second[0]
    assert len(set(colors_for([1, 1 + len(PALETTE), 1 + 2 * len(PALETTE)]))) == 3, "a clash takes the next free colour"


def test_long_config_names_are_cut_in_charts_but_still_tell_configs_apart() -> None:
    """A legend or category axis is as wide as its longest label: 50-character names left a 130 px plot."""
    long_a = entry("a" * 60, {}, 1.0)
    twin_prefix = [entry("p" * 40 + "-one", {}, 1.0), entry("p" * 40 + "-two", {}, 2.0)]
    assert charts.short_label(long_a.config) == "a" * 24 + "… v1" and len(charts.short_label(long_a.config)) == 28
    fig = charts.score_distribution([long_a, *twin_prefix])
    names = [t.name for t in fig.data]
    assert names[0] == "a" * 24 + "… v1"
    assert len(set(names)) == 3, "two names that would be cut alike are kept whole"
    assert charts.short_label(entry("short", {}, 1.0).config) == "short v1"


def test_a_chart_with_nothing_to_draw_is_left_out_for_a_sentence_instead_of_empty_axes() -> None:
    """An entry whose runs recorded no update has no curve: the board drew a curves chart with no trace."""
    no_curves = [entry("a", {"max_kl": 0.01}, 1.0), entry("b", {"max_kl": 0.02}, 2.0)]
    assert charts.learning_curves(no_curves, budget=10) is None
    assert set(charts.environment_figures(SimpleNamespace(budget_steps=10), no_curves)) == {"scores", "sensitivity"}
    unevaluated = SimpleNamespace(**{**vars(no_curves[0]), "final_scores": []})
    assert charts.score_distribution([unevaluated]) is None
    row = SimpleNamespace(config_id=1)
    assert charts.performance_profile([row], {}, {}) is None
    assert charts.overall_figures([row], {}, {}) == {}


def test_it_reads_the_height_each_figure_reserves_on_its_box() -> None:
    curve = {"steps": [0, 10], "mean": [1, 2], "low": [0, 1], "high": [2, 3]}
    rows = [entry('"height": 9', {"max_kl": 0.01}, 1.0, curve), entry("b", {"max_kl": 0.02}, 2.0, curve)]
    figures = charts.environment_figures(SimpleNamespace(budget_steps=10), rows)
    profile = charts.overall_figures([SimpleNamespace(config_id=1)], {1: {7: np.array([0.5])}}, {1: "c v1"})
    for text in [*figures.values(), *profile.values()]:
        assert charts.figure_height(text) == json.loads(text)["layout"]["height"] == charts.LAYOUT["height"]
    assert charts.figure_height(charts.to_json(go.Figure())) == charts.DEFAULT_HEIGHT


def test_the_colour_bar_stands_clear_of_the_score_axis() -> None:
    fig = charts.sensitivity([entry("a", {"max_kl": 0.01}, 1.0), entry("b", {"max_kl": 0.02}, 2.0)])
    assert fig.data[0].line.colorbar.xpad == charts.SCORE_AXIS_CLEARANCE
    assert fig.layout.margin.r > charts.SCORE_AXIS_CLEARANCE + fig.data[0].line.colorbar.thickness


def test_it_names_every_figure_for_screen_readers() -> None:
    """A figure's aria-label says what it plots (a screen reader cannot read the SVG), for every figure a board, an
    entry or the compare page draws; an unknown name falls back to itself."""
    from web.runs import charts as run_charts

    names = [*charts.FIGURE_LABELS, f"{charts.COMPARE_CURVES}hopper", *(spec.key for spec in run_charts.RUN_CHARTS)]
    for name in names:
        label = charts.figure_label(name)
        assert "chart" in label and label != name, name
    assert "hopper" in charts.figure_label("curves-hopper")
    assert charts.figure_label("unknown") == "unknown"
