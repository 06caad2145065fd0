"""Headless Chromium: the leaderboard's Plotly charts actually render (plotly.js served locally)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def offline_page(chromium: Any, live_server: Any) -> Iterator[Any]:
    """A page that may only talk to the test server: a chart needing a CDN would fail to render."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        live_server.url) else route.abort())  # fmt: skip
    yield context.new_page()
    context.close()


def charts_on(page: Any, url: str) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_selector(".js-plotly-plot .main-svg", timeout=20_000)
    assert errors == []
    return page.eval_on_selector_all(".js-plotly-plot", "nodes => nodes.map(n => n.id)")


def test_it_renders_the_board_and_overall_charts(live_server, board, offline_page) -> None:
    page = offline_page
    ids = charts_on(page, f"{live_server.url}/boards/cartpole/")
    assert set(ids) == {"chart-curves", "chart-scores", "chart-sensitivity"}
    assert page.locator("#chart-curves .main-svg").count() >= 1
    assert page.locator("#chart-sensitivity .parcoords").count() >= 1
    assert charts_on(page, f"{live_server.url}/") == ["chart-profile"]
    entry_ids = charts_on(page, f"{live_server.url}/boards/cartpole/entries/{board['strong'].pk}/")
    assert {"chart-learning_curve", "chart-kl"} <= set(entry_ids)


# Each chart's title box, its div's top, the bottom of whatever stands above its figure (the previous element, or
# the chart grid's when the figure comes first in it) and the top of its plot area (a cartesian plot's drag area, or
# the axis names parallel coordinates write above their plot).
TITLE_GEOMETRY = """nodes => nodes.map(div => {
    const figure = div.closest("figure");
    const above = figure.previousElementSibling || figure.parentElement.previousElementSibling;
    const title = div.querySelector(".gtitle").getBoundingClientRect();
    const plot = [...div.querySelectorAll(".nsewdrag, .parcoords .axis-title")]
        .map(n => n.getBoundingClientRect().top);
    return {id: div.id, title: [title.top, title.bottom], div: div.getBoundingClientRect().top,
            above: above.getBoundingClientRect().bottom, plot: Math.min(...plot)};
})"""


def assert_titles_fit(page: Any) -> None:
    """Every line of every chart title lies inside its chart, clear of what is above it and of its plot area."""
    page.wait_for_function("[...document.querySelectorAll('.js-plotly-plot')].every(d => d.querySelector('.gtitle'))")
    for chart in page.eval_on_selector_all(".js-plotly-plot", TITLE_GEOMETRY):
        top, bottom = chart["title"]
        assert top >= chart["div"], f"{chart['id']}: the title starts above its chart: {chart}"
        assert top >= chart["above"], f"{chart['id']}: the title runs into the element above: {chart}"
        assert chart["plot"] > chart["div"], f"{chart['id']}: no plot area found: {chart}"
        assert bottom <= chart["plot"], f"{chart['id']}: the title runs into the plot area: {chart}"


def test_on_a_phone_the_charts_fit_the_screen(live_server, board, chromium) -> None:
    """390 px wide: long titles wrap inside their charts, legends go below, and parallel coordinates scroll instead
    of squeezing."""
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        charts_on(page, f"{live_server.url}/boards/cartpole/")
        assert_titles_fit(page)
        curves = page.evaluate("(() => { const l = document.getElementById('chart-curves').layout; "
                               "return [l.legend.orientation, l.title.text]; })()")  # fmt: skip
        assert curves[0] == "h" and "<br>" in curves[1]
        sensitivity = page.locator("#chart-sensitivity")
        assert "lb-scroll" in (page.locator("figure:has(#chart-sensitivity)").get_attribute("class") or "")
        assert sensitivity.bounding_box()["width"] >= 4 * 90, "four axes at ~90 px each: wider than the screen"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page itself does not scroll sideways"
        # Every box keeps its label (Plotly showed one in two on a phone), and the colour bar stands clear of the
        # score axis, the last one, and of its labels.
        scores = page.evaluate(
            "(() => { const d = document.getElementById('chart-scores'); "
            "return [d.data.length, d.layout.xaxis.dtick, d.layout.xaxis.tickangle]; })()"
        )
        assert scores[1:] == [1, -90], "one upright label per box, whatever the number of boxes"
        assert page.locator("#chart-scores .xtick text").count() == scores[0]
        clear = page.evaluate("""(() => {
            const axes = [...document.querySelectorAll('#chart-sensitivity .parcoords .axis')];
            const score = Math.max(...[...axes[axes.length - 1].querySelectorAll('text')]
                .map(t => t.getBoundingClientRect().right));
            return document.querySelector('#chart-sensitivity .cbfill').getBoundingClientRect().left - score;
        })()""")
        assert clear >= 40, f"the colour bar starts {clear} px right of the score axis' labels"
        compare = charts_on(page, f"{live_server.url}/compare/?a={board['strong'].pk}&b={board['close'].pk}")
        assert compare == ["chart-curves-cartpole"]
        # Short enough for a phone since the band's explanation moved above the charts: no wrap needed.
        assert page.evaluate("document.getElementById('chart-curves-cartpole').layout.title.text") == (
            "cartpole: learning curves"
        )
        assert_titles_fit(page)
        for url in (f"{live_server.url}/", f"{live_server.url}/boards/cartpole/entries/{board['strong'].pk}/"):
            charts_on(page, url)  # the overall profile and an entry's KL chart wrap their titles too
            assert_titles_fit(page)
    finally:
        context.close()
    wide = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = wide.new_page()
        charts_on(page, f"{live_server.url}/boards/cartpole/")
        assert page.evaluate("(document.getElementById('chart-curves').layout.legend || {}).orientation") != "h"
        layout = page.evaluate("document.getElementById('chart-curves').layout")
        assert layout["title"] == {"text": "Learning curves (mean and 95% band across seeds)"}, "as the server drew it"
        assert layout["margin"]["t"] == 40
    finally:
        wide.close()


BOX_HEIGHTS = "nodes => Object.fromEntries(nodes.map(n => [n.id, n.getBoundingClientRect().height]))"


def test_charts_keep_their_box_height_and_a_run_without_updates_says_so(live_server, board, make_runs,
                                                                        chromium) -> None:  # fmt: skip
    """A chart's box is as tall before plotly.js draws (the page as served, scripts off) as after, so the page does
    not jump; a run with no update shows a sentence instead of empty axes, and its charts once updates arrive."""
    from web.runs.models import Run, RunMetric

    run = Run.objects.filter(config=board["strong"]).first()
    pages = [f"{live_server.url}/boards/cartpole/", f"{live_server.url}{run.get_absolute_url()}"]
    before: dict[str, float] = {}
    served = chromium.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    try:
        page = served.new_page()
        for url in pages:
            page.goto(url)
            before.update(page.eval_on_selector_all(".chart", BOX_HEIGHTS))
    finally:
        served.close()
    assert {"chart-curves", "chart-scores", "chart-sensitivity", "chart-learning_curve", "chart-kl"} <= set(before)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        for url in pages:
            page.goto(url)
            page.wait_for_function("[...document.querySelectorAll('.chart')].every(n => n.querySelector('.main-svg'))")
            for name, height in page.eval_on_selector_all(".chart", BOX_HEIGHTS).items():
                assert abs(height - before[name]) <= 3, f"{name}: {before[name]} px before drawing, {height} after"

        (failed,) = make_runs(board["default"], board["env"], [0.0], status="failed", curves=False, first_seed=50)
        page.goto(f"{live_server.url}{failed.get_absolute_url()}")
        assert page.inner_text("#charts-empty") == "No updates recorded: the run failed before its first update."
        assert page.locator(".chart").count() == 0 and page.is_hidden("#charts")

        queued = Run.objects.create(config=board["default"], environment=board["env"], seed=60, owner=run.owner)
        page.goto(f"{live_server.url}{queued.get_absolute_url()}")
        assert page.inner_text("#charts-empty").startswith("Charts appear after the first update")
        assert page.is_hidden("#charts") and page.locator(".js-plotly-plot").count() == 0
        RunMetric.objects.create(run=queued, update=1, steps=512, metrics={"rollout/ep_return_mean": 9.0})
        Run.objects.filter(pk=queued.pk).update(status="running", updates_done=1)
        page.wait_for_selector("#chart-learning_curve .main-svg", timeout=10_000)  # the next poll draws them
        assert page.is_hidden("#charts-empty")
        assert page.evaluate("document.getElementById('chart-learning_curve').data[0].y") == [9.0]
    finally:
        context.close()


# Where the identifying cells of a table's first body row lie, and whether the table needs a sideways swipe.
ROW_GEOMETRY = """([id, cells]) => {
    const table = document.getElementById(id);
    const row = table.tBodies[0].rows[0];
    const box = n => { const r = n.getBoundingClientRect(); return {left: r.left, right: r.right, width: r.width}; };
    return {
        cells: Object.fromEntries(cells.map(([name, selector]) => [name, box(row.querySelector(selector))])),
        viewport: window.innerWidth,
        wrapOverflow: table.parentElement.scrollWidth - table.parentElement.clientWidth,
        pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
        hiddenCells: [...row.cells].filter(c => c.getBoundingClientRect().width === 0).length,
    };
}"""
BOARD_CELLS = [["rank", "td:nth-child(1)"], ["config", "td:nth-child(2) a"], ["score", "td:nth-child(3)"]]


def test_on_a_phone_a_board_row_shows_rank_config_and_score_without_a_swipe(live_server, board, make_config,
                                                                            make_runs, chromium) -> None:  # fmt: skip
    """390 px wide: the rank, the config link (a 50-character name wraps) and the score with its interval of a board
    row lie inside the screen with nothing to scroll sideways; the note above the table brings back every column,
    which then scroll sideways. Scripts off: this is CSS alone (and plotly.js is not loaded)."""
    from leaderboard import services

    long_name = "a-rather-long-config-name-that-once-pushed-columns"
    make_runs(make_config(name=long_name), board["env"], [95.0, 96.0, 97.0])
    services.recompute_all()
    context = chromium.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    try:
        page = context.new_page()
        for path, table in (("/boards/cartpole/", "environment-board"), ("/", "overall-board")):
            page.goto(f"{live_server.url}{path}")
            geometry = page.evaluate(ROW_GEOMETRY, [table, BOARD_CELLS])
            for name, cell in geometry["cells"].items():
                assert cell["width"] > 0 and cell["left"] >= 0, f"{table} {name}: {geometry}"
                assert cell["right"] <= geometry["viewport"], f"{table} {name} is off-screen: {geometry}"
            assert geometry["wrapOverflow"] <= 0 and geometry["pageOverflow"] <= 0, geometry
            assert geometry["hiddenCells"] > 0, "the secondary columns wait for the switch"
            assert page.is_visible(f"#cols-note-{table}")
            page.click(f"label[for=all-cols-{table}]")
            expanded = page.evaluate(ROW_GEOMETRY, [table, BOARD_CELLS])
            assert expanded["hiddenCells"] == 0 and expanded["wrapOverflow"] > 0, "every column, scrolling sideways"
            assert expanded["pageOverflow"] <= 0, "the table scrolls inside its box, not the page"
        # The compare page's few wide cells wrap instead: B's score and P(A beats B) were off-screen.
        page.goto(f"{live_server.url}/compare/?a={board['strong'].pk}&b={board['close'].pk}")
        for table in ("compare-results", "compare-params"):
            box = page.evaluate(
                "id => { const w = document.getElementById(id).parentElement; return [w.scrollWidth, w.clientWidth]; }",
                table,
            )
            assert box[0] <= box[1], f"{table} needs a sideways swipe: {box}"
    finally:
        context.close()
    # A run id stays on one line on the smallest phones: with overflow-wrap "anywhere" the squeezed column broke
    # #151 into "#15" and "1".
    from web.runs.models import Run

    late = Run.objects.filter(config__name=long_name).first()
    Run.objects.create(pk=1_234_567, config=late.config, environment=late.environment, owner=late.owner, seed=9,
                       status="succeeded", final_return_mean=12_345.6)  # fmt: skip
    small = chromium.new_context(viewport={"width": 320, "height": 640}, java_script_enabled=False)
    try:
        page = small.new_page()
        page.goto(f"{live_server.url}/runs/")
        lines = page.evaluate(
            "() => [...document.querySelectorAll('#runs tbody td:first-child a')].map(a => a.getClientRects().length)"
        )
        assert lines and set(lines) == {1}, lines
    finally:
        small.close()
    wide = chromium.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    try:
        page = wide.new_page()
        page.goto(f"{live_server.url}/boards/cartpole/")
        assert page.is_hidden("#cols-note-environment-board"), "a wide screen shows every column and no switch"
        assert page.evaluate(ROW_GEOMETRY, ["environment-board", BOARD_CELLS])["hiddenCells"] == 0
        assert page.is_hidden("#environment-board .phone-only")
    finally:
        wide.close()
