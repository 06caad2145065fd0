"""Leaderboard pages: the overall board (home), one board per environment, one page per entry.

Views are thin: :mod:`leaderboard.boards` picks the rows, :mod:`leaderboard.entries` builds an entry's run
figures, templates show them. Each page runs a fixed number of queries (asserted in tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST, require_safe

from leaderboard import boards, compare, entries, pagecache
from leaderboard.models import LeaderboardEntry
from leaderboard.reproduce import ReproduceRefused, reproduce_entry
from web.catalog.models import Environment, TrainerConfig

PAGE_SIZE = 100
FRAGMENT_SECONDS = 3600


def _sort_links(columns: list[boards.Column], current: boards.Column, descending: bool) -> list[dict[str, object]]:
    """Header links: clicking the current column flips its direction, another column starts at its default."""
    links = []
    for c in columns:
        desc = not descending if c is current else c.descending_first
        links.append({"column": c, "sort": boards.sort_param(c, desc), "active": c is current,
                      "descending": descending if c is current else None})  # fmt: skip
    return links


def _page_number(request: HttpRequest, rows: int) -> int:
    """The page asked for, clamped to the board's pages as the paginator clamps it: it is part of the cache key,
    and ``?page=<any number>`` stored one more copy of the last page per number in the shared cache."""
    raw = request.GET.get("page", "1")
    # isascii(): "²".isdigit() is True but int("²") raises; the length: int() refuses over 4300 digits
    # (both 500s found by tests/reliability/test_fuzz_api.py).
    number = int(raw) if len(raw) <= 6 and raw.isascii() and raw.isdigit() and 0 < int(raw) < 10**6 else 1
    return min(number, boards.last_page(rows, PAGE_SIZE))


def _cached_body(key: str, build: Callable[[], dict[str, Any]], template: str) -> tuple[str, bool]:
    """A board's table and figures, rendered once per board version (the key carries the version).

    Why: under load, rendering a 100-row table dominates a request. The fragment excludes everything that
    depends on the visitor (navigation, CSRF tokens), so anonymous and signed-in users share it.
    """
    hit = cache.get(key)
    if hit is None:
        context = build()
        hit = (render_to_string(template, context), bool(context["figures"]))
        cache.set(key, hit, FRAGMENT_SECONDS)
    return mark_safe(hit[0]), hit[1]  # noqa: S308 - rendered by our own autoescaping template


def home(request: HttpRequest) -> HttpResponse:
    """The overall board across environments, its performance profile, and every environment's leader."""
    column, descending = boards.parse_sort(request.GET.get("sort"), boards.OVERALL_COLUMNS)
    sort = boards.sort_param(column, descending)
    version, n_rows = boards.home_version()
    number = _page_number(request, n_rows)

    def build() -> dict[str, Any]:
        rows, _, _ = boards.overall_entries(sort)
        envs = list(
            Environment.objects.order_by("slug").only("slug", "gym_id", "min_seeds", "budget_steps", "counts_overall")
        )
        leaders = boards.environment_leaders()
        # The environments a config must be confirmed on to be ranked: those counting overall with a confirmed
        # entry (each has a leader), as in services.compute_overall.
        ranked_envs = sum(1 for env in envs if env.counts_overall and env.pk in leaders)
        return {
            "ranked_envs": ranked_envs,
            "page": Paginator(rows, PAGE_SIZE).get_page(number), "sort": sort,
            "headers": _sort_links(boards.OVERALL_COLUMNS, column, descending),
            "figures": boards.figures("overall"),
            "environments": [(env, leaders.get(env.pk)) for env in envs],
        }  # fmt: skip

    key = f"lb:home:{version}:{sort}:{number}"

    def page() -> HttpResponse:
        body, has_figures = _cached_body(key, build, "leaderboard/_home_body.html")
        return render(request, "leaderboard/home.html", {"body": body, "has_figures": has_figures})

    return pagecache.cached_page(request, key, page)


def environment_board(request: HttpRequest, slug: str) -> HttpResponse:
    """One environment's board: sortable by any column, with ties, provisional flags and seeds shown."""
    env = boards.environment_with_version(slug)
    if env is None:
        raise Http404("no such environment")
    column, descending = boards.parse_sort(request.GET.get("sort"), boards.ENTRY_COLUMNS)
    sort = boards.sort_param(column, descending)
    number = _page_number(request, env.board_rows)  # type: ignore[attr-defined]

    def build() -> dict[str, Any]:
        rows, _, _ = boards.environment_entries(env.pk, sort)
        return {
            "env": env, "page": Paginator(rows, PAGE_SIZE).get_page(number), "sort": sort,
            "headers": _sort_links(boards.ENTRY_COLUMNS, column, descending),
            "figures": boards.figures(f"env-{env.pk}"),
        }  # fmt: skip

    # The header shows the environment's protocol: its fields join the key, so an edit shows at once.
    shown = (
        env.gym_id, env.budget_steps, env.eval_episodes, env.deterministic_eval, env.min_seeds,
        env.random_return, env.reference_return, env.reference_source,
    )  # fmt: skip
    key = f"lb:env:{env.pk}:{env.board_version}:{pagecache.digest(*shown)}:{sort}:{number}"

    def page() -> HttpResponse:
        body, has_figures = _cached_body(key, build, "leaderboard/_board_body.html")
        return render(request, "leaderboard/board.html", {"env": env, "body": body, "has_figures": has_figures})

    return pagecache.cached_page(request, key, page)


def entry_detail(request: HttpRequest, slug: str, config_id: int) -> HttpResponse:
    """An entry: its config, every run (with checkpoint links), its charts and a reproduce button."""
    entry = get_object_or_404(
        LeaderboardEntry.objects.select_related("config", "environment").defer("curve", "final_scores"),
        environment__slug=slug, config_id=config_id,
    )  # fmt: skip

    def page() -> HttpResponse:
        runs = entries.entry_runs(entry)
        figures = entries.entry_figures(entry, runs)
        return render(request, "leaderboard/entry.html", {
            "entry": entry, "env": entry.environment, "config": entry.config, "runs": runs,
            "best_run": entries.best_checkpoint_run(runs),
            "figures": figures, "has_figures": bool(figures),
            "config_json": entries.pretty_json(entry.config.params),
        })  # fmt: skip

    # The environment's own stamp too: a slug or text edit changes the page but no entry.
    stamp = f"{entry.updated_at.isoformat()}:{entry.environment.updated_at.isoformat()}"
    key = f"lb:entry:{entry.pk}:{stamp}:{entries.runs_signature(entry)}"
    return pagecache.cached_page(request, key, page)


@require_POST
@login_required
def reproduce(request: HttpRequest, slug: str, config_id: int) -> HttpResponse:
    """Queue the entry's config on its environment with the same seeds, for the signed-in user."""
    entry = get_object_or_404(
        LeaderboardEntry.objects.select_related("environment"), environment__slug=slug, config_id=config_id
    )
    try:
        runs = reproduce_entry(request.user, entry)
    except ReproduceRefused as exc:
        messages.warning(request, str(exc))
        return redirect("leaderboard:entry", slug, config_id)
    seeds = ", ".join(str(r.seed) for r in runs)
    messages.success(request, f"Queued {len(runs)} run(s) to reproduce this entry (seeds {seeds}).")
    return redirect("runs:mine")


class CompareForm(forms.Form):
    """Two config versions to put side by side (``?a=<id>&b=<id>``)."""

    a = forms.ModelChoiceField(
        TrainerConfig.objects.select_related("owner").order_by("name", "version"), label="Config A"
    )
    b = forms.ModelChoiceField(
        TrainerConfig.objects.select_related("owner").order_by("name", "version"), label="Config B"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in ("a", "b"):  # whose each config is, as in the submit form's menu
            self.fields[field].label_from_instance = lambda config: config.menu_label

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("a") is not None and cleaned.get("a") == cleaned.get("b"):
            self.add_error("b", "Pick a config other than A.")
        return cleaned


@require_safe
def compare_configs(request: HttpRequest) -> HttpResponse:
    """Two configs side by side: parameter differences, both scores per environment and P(A beats B)."""
    # Both given: compare them. One given (the config page's "Compare with…"): a form with A chosen.
    bound = "a" in request.GET and "b" in request.GET
    form = CompareForm(request.GET) if bound else CompareForm(initial={"a": request.GET.get("a")})
    comparison, a, b = None, None, None
    if form.is_bound and form.is_valid():
        a, b = form.cleaned_data["a"], form.cleaned_data["b"]
        comparison = compare.cached_compare(a, b)
    status = 400 if form.is_bound and not form.is_valid() else 200
    context = {"form": form, "comparison": comparison, "a": a, "b": b,
               "has_figures": bool(comparison and comparison.figures)}  # fmt: skip
    return render(request, "leaderboard/compare.html", context, status=status)
