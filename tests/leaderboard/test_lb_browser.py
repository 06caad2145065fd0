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


def test_on_a_phone_the_charts_fit_the_screen(live_server, board, chromium) -> None:
    """390 px wide: long titles wrap, legends go below, and parallel coordinates scroll instead of squeezing."""
    context = chromium.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        charts_on(page, f"{live_server.url}/boards/cartpole/")
        curves = page.evaluate("(() => { const l = document.getElementById('chart-curves').layout; "
                               "return [l.legend.orientation, l.title.text]; })()")  # fmt: skip
        assert curves[0] == "h" and "<br>" in curves[1]
        sensitivity = page.locator("#chart-sensitivity")
        assert "lb-scroll" in (page.locator("figure:has(#chart-sensitivity)").get_attribute("class") or "")
        assert sensitivity.bounding_box()["width"] >= 4 * 90, "four axes at ~90 px each: wider than the screen"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the page itself does not scroll sideways"
    finally:
        context.close()
    wide = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = wide.new_page()
        charts_on(page, f"{live_server.url}/boards/cartpole/")
        assert page.evaluate("(document.getElementById('chart-curves').layout.legend || {}).orientation") != "h"
    finally:
        wide.close()
