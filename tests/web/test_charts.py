"""Figure builders work on plain rows and tag each trace with its metric for live updates."""

from __future__ import annotations

from web.runs import charts

ROWS = [
    {"update": u, "steps": 256 * u, "metrics": {"rollout/ep_return_mean": 10.0 * u, "train/kl": 0.004 * u}}
    for u in (1, 2, 3)
]


def test_it_builds_the_four_run_figures_from_plain_rows() -> None:
    figures = charts.run_figures(ROWS, max_kl=0.01)
    assert list(figures) == ["learning_curve", "kl", "line_search", "entropy"]
    curve = figures["learning_curve"].data[0]
    assert list(curve.x) == [256, 512, 768] and list(curve.y) == [10.0, 20.0, 30.0]
    assert curve.meta == {"metric": "rollout/ep_return_mean", "x": "steps"}


def test_it_draws_delta_on_the_kl_chart() -> None:
    data = charts.to_data(charts.run_figures(ROWS, max_kl=0.01)["kl"])
    assert [shape["y0"] for shape in data["layout"]["shapes"]] == [0.01]


def test_it_leaves_gaps_for_missing_values() -> None:
    _, ys = charts.series(ROWS, "train/entropy", "update")
    assert ys == [None, None, None]
