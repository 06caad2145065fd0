"""Figure builders work on plain rows and tag each trace with its metric for live updates."""

from __future__ import annotations

import pytest

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


def test_line_search_steps_are_counted_in_whole_steps_on_the_axis() -> None:
    """Its ticks read 0.2, 0.4, ... of a step (a count of backtracking steps)."""
    rows = [{**r, "metrics": {"train/line_search_steps": float(r["update"] % 2)}} for r in ROWS]
    yaxis = charts.to_data(charts.run_figures(rows, max_kl=0.01)["line_search"])["layout"]["yaxis"]
    assert yaxis["dtick"] == 1 and yaxis["tickformat"] == "d"
    kl_axis = charts.to_data(charts.run_figures(rows, max_kl=0.01)["kl"])["layout"]["yaxis"]
    assert "dtick" not in kl_axis, "only counts get whole-number ticks"


def test_it_draws_delta_on_the_kl_chart() -> None:
    data = charts.to_data(charts.run_figures(ROWS, max_kl=0.01)["kl"])
    assert [shape["y0"] for shape in data["layout"]["shapes"]] == [0.01]


def test_it_draws_a_scheduled_delta_as_the_value_each_update_used() -> None:
    rows = [{**r, "metrics": {**r["metrics"], "train/max_kl": 0.03 - 0.01 * (r["update"] - 1)}} for r in ROWS]
    data = charts.to_data(charts.run_figures(rows, max_kl=0.03, max_kl_schedule="linear")["kl"])
    assert not data["layout"].get("shapes"), "no flat δ line for a scheduled trust region"
    delta = data["data"][1]
    assert delta["y"] == pytest.approx([0.03, 0.02, 0.01])
    assert delta["meta"] == {"metric": "train/max_kl", "x": "update"}, "the run page extends it live"


def test_a_config_saved_before_the_schedule_existed_draws_a_flat_delta() -> None:
    assert charts.trust_region_of({"max_kl": 0.02}) == {"max_kl": 0.02, "max_kl_schedule": "constant"}
    assert charts.trust_region_of(None) == {"max_kl": None, "max_kl_schedule": "constant"}


def test_it_leaves_gaps_for_missing_values() -> None:
    _, ys = charts.series(ROWS, "train/entropy", "update")
    assert ys == [None, None, None]


def test_a_finished_run_without_updates_gets_a_sentence_instead_of_empty_charts() -> None:
    assert charts.page_figures([], live=False, max_kl=0.01) == {}
    assert charts.no_updates_note("failed") == "No updates recorded: the run failed before its first update."
    assert "cancelled before its first update" in charts.no_updates_note("cancelled")
    assert charts.page_figures(ROWS, live=False, max_kl=0.01).keys() == charts.run_figures(ROWS).keys()


def test_a_live_run_without_updates_keeps_empty_figures_for_its_page_to_draw_later() -> None:
    figures = charts.page_figures([], live=True, max_kl=0.01)
    assert list(figures) == ["learning_curve", "kl", "line_search", "entropy"]
    curve = figures["learning_curve"].data[0]
    assert list(curve.x) == [] and curve.meta == {"metric": "rollout/ep_return_mean", "x": "steps"}
    assert charts.no_updates_note("queued").startswith("Charts appear after the first update")
    assert charts.no_updates_note("running") == "Charts appear after the first update."
