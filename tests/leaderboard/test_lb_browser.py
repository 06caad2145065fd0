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
