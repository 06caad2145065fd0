"""Accessibility (WCAG 2.1 AA) of representative pages in headless Chromium, as a screen-reader or keyboard user
meets them: axe-core (bundled by axe-playwright-python, no network) must find no serious or critical violation, and
explicit DOM checks hold on every page (docs/WEB.md, "Accessibility")."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from web_helpers import PASSWORD, TINY_PARAMS

from web.catalog.models import Environment, TrainerConfig
from web.runs.models import Run, RunMetric, RunStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}

# What every page must do, whatever axe's rules say: one h1, headings that never skip a level, one main landmark, a
# labelled menu, a language, a name on every field, link and button, ids that aria attributes point to, every chart
# named (its box or its <figure>), and at most one column marked sorted in a table of sort links.
DOM_CHECKS = """() => {
  const problems = [];
  const shown = el => el.getClientRects().length > 0;
  const text = el => (el.getAttribute("aria-label") || el.textContent || "").trim();
  if (!document.documentElement.lang) problems.push("<html> has no lang");
  if (document.querySelectorAll("main").length !== 1) problems.push("not exactly one <main>");
  if (!document.querySelector("nav[aria-label]")) problems.push("no labelled <nav>");
  const h1s = document.querySelectorAll("h1").length;
  if (h1s !== 1) problems.push(h1s + " h1 elements");
  let level = 0;
  for (const h of document.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    if (!shown(h)) continue;
    const next = Number(h.tagName[1]);
    if (next > level + 1) problems.push(h.tagName + " after h" + level + ": " + h.textContent.trim());
    level = next;
  }
  for (const field of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    const label = (field.getAttribute("aria-label") || "").trim() || [...field.labels].map(text).join("");
    if (!label) problems.push("field without a label: " + field.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll("a[href], button")) {
    if (shown(el) && !text(el) && !el.getAttribute("title")) problems.push("nameless: " + el.outerHTML.slice(0, 120));
  }
  for (const el of document.querySelectorAll("[aria-describedby], [aria-labelledby], [aria-controls]")) {
    for (const attr of ["aria-describedby", "aria-labelledby", "aria-controls"]) {
      for (const id of (el.getAttribute(attr) || "").split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) problems.push(attr + " points at a missing #" + id);
      }
    }
  }
  for (const chart of document.querySelectorAll(".chart")) {
    const named = chart.closest("figure, [role=figure]");
    if (!named || !(named.getAttribute("aria-label") || "").trim()) problems.push("unnamed chart #" + chart.id);
  }
  for (const table of document.querySelectorAll("table")) {
    if (table.querySelector("th a[href*='sort=']") && table.querySelectorAll("th[aria-sort]").length !== 1) {
      problems.push("sortable table #" + table.id + " does not say which column it is sorted by");
    }
  }
  for (const link of document.querySelectorAll("#error-summary a[href^='#']")) {
    if (!document.getElementById(link.getAttribute("href").slice(1))) problems.push("summary link to nothing");
  }
  for (const field of document.querySelectorAll("[aria-invalid=true]")) {
    const ids = (field.getAttribute("aria-describedby") || "").split(/\\s+/);
    if (!ids.some(id => id.endsWith("_error") && document.getElementById(id))) {
      problems.push("refused field #" + field.id + " is not described by its error");
    }
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def axe() -> Any:
    try:
        from axe_playwright_python.sync_playwright import Axe
    except ImportError:  # the dev extras install it; scripts/test.sh requires the browser tests to run
        if os.environ.get("TRUSTBOARD_REQUIRE_BROWSER") == "1":
            pytest.fail("axe-playwright-python is missing: pip install -e '.[dev]'")
        pytest.skip("axe-playwright-python is missing: pip install -e '.[dev]'")
    return Axe()


@pytest.fixture
def site(db: None) -> dict[str, Any]:
    """A board with tied, provisional and default entries, a live run with one update, a user with a config."""
    from leaderboard import services

    user = User.objects.create_user("alice", password=PASSWORD)
    env = Environment.objects.create(
        slug="cartpole", gym_id="CartPole-v1", budget_steps=4096, eval_episodes=4, random_return=0.0,
        reference_return=100.0, min_seeds=3, counts_overall=True,
    )  # fmt: skip
    configs = {}
    for name, finals in (
        ("default", [10, 12, 14]),
        ("strong", [80, 90, 100]),
        ("close", [78, 85, 92]),
        ("short", [99]),
    ):
        config = TrainerConfig.objects.create(
            name=name, params={**TINY_PARAMS, "max_kl": 0.01 * len(configs) + 0.01}, is_default=name == "default",
            owner=None if name == "default" else user,
        )  # fmt: skip
        configs[name] = config
        for seed, final in enumerate(finals):
            run = Run.objects.create(
                config=config, environment=env, seed=seed, status=RunStatus.SUCCEEDED, owner=user, total_steps=4096,
                final_return_mean=final, final_return_std=1.0, eval_returns=[final - 1, final + 1], eval_lengths=[9, 9],
                steps_done=4096, updates_done=2, progress=1.0, wall_clock_s=10.0, steps_per_s=400.0,
            )  # fmt: skip
            RunMetric.objects.bulk_create(
                RunMetric(run=run, update=u, steps=2048 * (u + 1), metrics={"rollout/ep_return_mean": final * u / 2})
                for u in range(2)
            )
    services.recompute_all()
    live = Run.objects.create(
        config=configs["strong"], environment=env, seed=9, status=RunStatus.RUNNING, owner=user, total_steps=4096,
        steps_done=1024, updates_done=1, progress=0.25, worker_host="worker-1",
    )  # fmt: skip
    RunMetric.objects.create(run=live, update=1, steps=1024, metrics={"rollout/ep_return_mean": 5.0, "train/kl": 0.01})
    finished = Run.objects.filter(config=configs["strong"], seed=0).get()
    return {"user": user, "configs": configs, "live": live, "finished": finished}


@pytest.fixture
def live_run(db: None) -> Run:
    """A running run a quarter of the way through, with one update."""
    env = Environment.objects.create(
        slug="cartpole", gym_id="CartPole-v1", budget_steps=4096, eval_episodes=4, random_return=0.0,
        reference_return=100.0, min_seeds=1,
    )  # fmt: skip
    config = TrainerConfig.objects.create(name="tiny", params=TINY_PARAMS)
    owner = User.objects.create_user("bob", password=PASSWORD)
    run = Run.objects.create(
        config=config, environment=env, seed=0, status=RunStatus.RUNNING, owner=owner, total_steps=4096,
        steps_done=1024, updates_done=1, progress=0.25, worker_host="worker-1",
    )  # fmt: skip
    RunMetric.objects.create(run=run, update=1, steps=1024, metrics={"rollout/ep_return_mean": 5.0, "train/kl": 0.01})
    return run


@pytest.fixture
def signed_in(chromium: Any, live_server: Any, site: dict[str, Any]) -> Iterator[Any]:
    """A page whose browser carries the session of ``site``'s user (no log-in form to click through)."""
    client = Client()
    client.force_login(site["user"])
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def audit(page: Any, axe: Any, where: str) -> list[str]:
    """axe's serious and critical violations and the DOM checks' problems on the page as it stands."""
    results = axe.run(page).response
    found = [
        f"{where}: {v['id']} ({v['impact']}): {v['help']}: " + "; ".join(n["html"][:120] for n in v["nodes"][:3])
        for v in results["violations"]
        if v["impact"] in BLOCKING
    ]
    return found + [f"{where}: {problem}" for problem in page.evaluate(DOM_CHECKS)]


def test_it_finds_no_serious_violation_on_representative_pages(
    live_server: Any, page: Any, signed_in: Any, axe: Any, site: dict[str, Any]
) -> None:
    base = live_server.url
    strong, live = site["configs"]["strong"], site["live"]
    problems: list[str] = []
    charted = ("/", "/boards/cartpole/", f"/boards/cartpole/entries/{strong.pk}/", f"/runs/{site['finished'].pk}/")
    for path in (*charted, f"/runs/{live.pk}/", "/runs/", "/configs/"):
        page.goto(base + path)
        if path in charted:  # audited as drawn, modebar buttons included
            page.wait_for_selector(".js-plotly-plot .main-svg")
        problems += audit(page, axe, "anonymous " + path)
    for path in ("/runs/new/", "/configs/new/", "/accounts/"):
        signed_in.goto(base + path)
        problems += audit(signed_in, axe, "signed in " + path)
    # A refused form: the summary links each error to its field, and each field is described by its error.
    page.goto(base + "/accounts/signup/")
    page.fill("#id_username", "bob")
    page.fill("#id_password1", "correct-horse-battery")
    page.fill("#id_password2", "something-else-entirely")
    page.click("main form button[type=submit]")
    page.wait_for_selector("#error-summary")
    problems += audit(page, axe, "refused sign-up")
    assert page.get_attribute("#id_password2", "aria-invalid") == "true"
    assert not problems, "\n".join(problems)


def test_run_page_exposes_progress_and_announces_a_status_change(live_server: Any, page: Any, live_run: Run) -> None:
    live = live_run
    page.goto(f"{live_server.url}/runs/{live.pk}/")
    bar = page.locator("#progress[role=progressbar]")
    assert bar.get_attribute("aria-valuenow") == "25" and bar.get_attribute("aria-label")
    assert page.get_attribute("#run-announcer", "role") == "status"
    Run.objects.filter(pk=live.pk).update(status=RunStatus.SUCCEEDED, progress=1.0, steps_done=4096)
    page.wait_for_function("document.getElementById('run-announcer').textContent.includes('Succeeded')")
    assert bar.get_attribute("aria-valuenow") == "100"


# Every badge, status and text colour on its own background, as the stylesheets paint them (small text: 4.5:1);
# links in running text 3:1 against the text around them unless underlined; a text field's border 3:1 (1.4.11).
SAMPLES = """
<p>{statuses}</p>
<p>Rows <span class="badge lb-tie">tied</span> <span class="badge lb-provisional">provisional</span>
  <span class="badge lb-default">default</span> <span class="badge">shipped</span> text <a href="#x">a link</a></p>
<table class="table lb-table"><tbody><tr class="is-provisional"><td>
  <span class="badge lb-provisional">provisional</span> <span class="lb-coverage">1 of 3 needed</span> 12.0
  <a href="#x">cfg v1</a></td></tr></tbody></table>
<p class="msg msg-info">Info <a href="#x">link</a></p><p class="msg msg-success">Saved <a href="#x">link</a></p>
<p class="msg msg-warning">Careful <a href="#x">link</a></p><p class="msg msg-error">Refused <a href="#x">link</a></p>
<p class="help">Help <a href="#x">link</a></p><p class="lb-note">A note</p><p class="lb-empty">Nothing yet</p>
<a class="button" href="#x">Submit</a> <a class="button secondary" href="#x">Copy</a>
<button class="button danger">Delete</button> <button class="link">Log out</button>
<div class="form"><div class="field has-error"><label for="s">Seeds</label><input id="s" type="number">
  <p class="error">Too many <a href="#s">seeds</a></p></div><div class="field"><input id="t" type="text"></div></div>
<div class="allowance"><p id="submission-cost" class="over">Over the limit</p></div>
<p class="footer">Trustboard</p>
"""

CONTRAST = """root => {
  const rgb = c => c.match(/[\\d.]+/g).map(Number);
  const lum = c => { const v = rgb(c).slice(0, 3).map(x => x / 255)
    .map(x => x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4);
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const opaque = c => !/^rgba\\(.*, 0\\)$/.test(c) && c !== "transparent";
  const background = el => { for (; el; el = el.parentElement) { const c = getComputedStyle(el).backgroundColor;
    if (opaque(c)) return c; } return "rgb(255, 255, 255)"; };
  const label = el => el.outerHTML.slice(0, 70);
  const out = [];
  for (const el of root.querySelectorAll("span, a, button, p, td, label, .status")) {
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const r = ratio(getComputedStyle(el).color, background(el));
    if (r < 4.5) out.push(label(el) + " text contrast " + r.toFixed(2));
  }
  for (const a of root.querySelectorAll("p > a")) {
    const r = ratio(getComputedStyle(a).color, getComputedStyle(a.parentElement).color);
    if (r < 3 && !getComputedStyle(a).textDecorationLine.includes("underline")) {
      out.push(label(a) + " is told from its text by colour alone: " + r.toFixed(2));
    }
  }
  for (const input of root.querySelectorAll("input")) {
    const r = ratio(getComputedStyle(input).borderTopColor, background(input.parentElement));
    if (r < 3) out.push(label(input) + " border contrast " + r.toFixed(2));
  }
  return out;
}"""


def test_badge_status_and_text_colours_meet_contrast(live_server: Any, page: Any) -> None:
    page.goto(f"{live_server.url}/")  # both stylesheets: web/site.css and leaderboard/leaderboard.css
    statuses = " ".join(f'<span class="status status-{s}">{s.label}</span>' for s in RunStatus)
    page.evaluate(
        "html => { const d = document.createElement('div'); d.id = 'samples'; d.innerHTML = html;"
        " document.querySelector('main').append(d); }",
        SAMPLES.format(statuses=statuses),
    )
    failures = page.eval_on_selector("#samples", CONTRAST)
    assert not failures, "\n".join(failures)


FOCUS = """(() => { const s = getComputedStyle(document.activeElement);
  return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth]; })()"""


def test_keyboard_reaches_content_first_and_sees_focus(live_server: Any, page: Any) -> None:
    page.goto(f"{live_server.url}/runs/")
    page.keyboard.press("Tab")
    skip = page.evaluate("(() => { const a = document.activeElement; const r = a.getBoundingClientRect();"
                         " return [a.className, a.getAttribute('href'), r.top >= 0 && r.height > 0]; })()")  # fmt: skip
    assert skip == ["skip-link", "#main", True], "the first Tab shows a link past the menu"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('main')"), "the skip link lands in <main>"
    for _ in range(20):  # on to the filter form's button: every stop shows a 2 px outline
        focus = page.evaluate(FOCUS)
        assert focus[1] != "none" and focus[2] == "2px", focus
        if focus[0] == "BUTTON":
            break
        page.keyboard.press("Tab")
    assert focus[0] == "BUTTON"
