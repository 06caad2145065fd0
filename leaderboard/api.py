"""Read-only JSON API under ``/api/``: environments, configs, runs and leaderboards, paginated.

Lists answer ``{"count", "page", "page_size", "num_pages", "next", "previous", "results"}``; ``?page=``
(from 1) and ``?page_size=`` (1..MAX_PAGE_SIZE, default DEFAULT_PAGE_SIZE) pick the slice. Every endpoint
runs a fixed number of queries: one count and one slice per list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from leaderboard import boards
from leaderboard.pagecache import digest
from web.catalog.models import Environment, TrainerConfig
from web.runs.jsonsafe import finite
from web.runs.models import Run, RunMetric

_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,80}")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_RUN_UPDATES = 5000
CACHE_SECONDS = 3600
COUNT_SECONDS = 60


def read_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """GET and HEAD only, anything else a 405. CSRF-exempt because nothing here changes state: with the CSRF
    check, a POST was refused with Django's HTML 403 page before the view could say 405."""
    return csrf_exempt(require_safe(view))


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError as exc:
        raise ValueError(f"not an integer: {value!r}") from exc


class _KnownCountPaginator(Paginator):
    """A paginator told its count (from the cache) instead of running ``COUNT(*)`` again."""

    def __init__(self, object_list: Any, per_page: int, known_count: int) -> None:
        super().__init__(object_list, per_page, allow_empty_first_page=True)
        self.known_count = known_count

    @property
    def count(self) -> int:  # type: ignore[override]
        return self.known_count


def paginate(request: HttpRequest, qs: QuerySet[Any], serialize: Any, *, count_key: str | None = None) -> JsonResponse:
    """One page of ``qs`` as JSON, with absolute links to the neighbouring pages.

    With ``count_key``, the total is cached under that key (the caller puts a version in it) for COUNT_SECONDS:
    counting every run on every request is the most expensive part of a page of a large table.
    """
    try:
        size = _int(request.GET.get("page_size"), DEFAULT_PAGE_SIZE)
        number = _int(request.GET.get("page"), 1)
    except ValueError as exc:
        return _error(400, str(exc))
    if not 1 <= size <= MAX_PAGE_SIZE:
        return _error(400, f"page_size must be between 1 and {MAX_PAGE_SIZE}")
    paginator = Paginator(qs, size, allow_empty_first_page=True)
    if count_key is not None:
        total = cache.get(count_key)
        if total is None:
            total = paginator.count
            cache.set(count_key, total, COUNT_SECONDS)
        paginator = _KnownCountPaginator(qs, size, total)
    try:
        page = paginator.page(number)
    except (EmptyPage, PageNotAnInteger):
        return _error(404, f"no page {number}: there are {paginator.num_pages}")

    def link(n: int) -> str:
        query = request.GET.copy()
        query["page"] = str(n)
        return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")

    return JsonResponse({
        "count": paginator.count, "page": page.number, "page_size": size, "num_pages": paginator.num_pages,
        "next": link(page.next_page_number()) if page.has_next() else None,
        "previous": link(page.previous_page_number()) if page.has_previous() else None,
        "results": [serialize(obj) for obj in page.object_list],
    })  # fmt: skip


ENV_FIELDS = ("slug", "gym_id", "kwargs", "budget_steps", "eval_episodes", "eval_seed", "deterministic_eval",
              "random_return", "reference_return", "reference_source", "min_seeds", "counts_overall",
              "description")  # fmt: skip


def environment_json(env: Environment) -> dict[str, Any]:
    data = {f: getattr(env, f) for f in ENV_FIELDS}
    for optional in ("observation_space", "action_space"):
        if hasattr(env, optional):
            data[optional] = getattr(env, optional)
    data["created_at"] = env.created_at.isoformat() if env.created_at else None
    return data


def config_json(cfg: TrainerConfig) -> dict[str, Any]:
    return {
        "id": cfg.pk, "name": cfg.name, "version": cfg.version,
        "owner": cfg.owner.get_username() if cfg.owner_id else None,
        "params": cfg.params, "description": cfg.description, "is_default": cfg.is_default,
        "parent_id": cfg.parent_id, "created_at": cfg.created_at.isoformat() if cfg.created_at else None,
    }  # fmt: skip


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


RUN_VALUES = (
    "id", "config_id", "environment__slug", "seed", "status", "steps_done", "updates_done", "final_return_mean",
    "final_return_std", "eval_returns", "wall_clock_s", "steps_per_s", "checkpoint", "created_at", "started_at",
    "finished_at",
)  # fmt: skip


def run_json(row: dict[str, Any], request: HttpRequest) -> dict[str, Any]:
    """A run from a ``values(*RUN_VALUES)`` row (no model instances: lists of runs stay cheap)."""
    data = {("environment" if k == "environment__slug" else k): v for k, v in row.items()}
    data["checkpoint"] = (
        request.build_absolute_uri(reverse("runs:checkpoint", args=[row["id"]])) if row["checkpoint"] else None
    )
    for field in ("created_at", "started_at", "finished_at"):
        data[field] = _iso(row[field])
    return finite(data)  # a NaN stored by an older worker was written as a bare NaN token: invalid JSON


@read_only
def index(request: HttpRequest) -> JsonResponse:
    names = ["environments", "configs", "runs", "leaderboards"]
    return JsonResponse({n: request.build_absolute_uri(reverse(f"api:{n}")) for n in names})


@read_only
def environments(request: HttpRequest) -> JsonResponse:
    return paginate(request, Environment.objects.order_by("slug"), environment_json)


@read_only
def environment_detail(request: HttpRequest, slug: str) -> JsonResponse:
    env = Environment.objects.filter(slug=slug).first()
    return JsonResponse(environment_json(env)) if env else _error(404, f"no environment {slug!r}")


@read_only
def configs(request: HttpRequest) -> JsonResponse:
    qs = TrainerConfig.objects.select_related("owner").order_by("pk")
    return paginate(request, qs, config_json)


@read_only
def config_detail(request: HttpRequest, pk: int) -> JsonResponse:
    cfg = TrainerConfig.objects.select_related("owner").filter(pk=pk).first()
    return JsonResponse(config_json(cfg)) if cfg else _error(404, f"no config {pk}")


@read_only
def runs(request: HttpRequest) -> JsonResponse:
    """Runs, newest first; filter with ``?environment=<slug>``, ``?config=<id>``, ``?status=<status>``."""
    qs = Run.objects.order_by("-pk").values(*RUN_VALUES)
    if slug := request.GET.get("environment"):
        if not _SLUG.fullmatch(slug):  # e.g. a NUL byte, which PostgreSQL refuses in a query (was a 500)
            return _error(400, "environment must be an environment's slug")
        qs = qs.filter(environment__slug=slug)
    if config := request.GET.get("config"):
        # "²".isdigit() is True but int("²") raises, and int() refuses over 4300 digits (both were 500s).
        if not (len(config) <= 18 and config.isascii() and config.isdigit()):
            return _error(400, "config must be an integer id")
        qs = qs.filter(config_id=int(config))
    if status := request.GET.get("status"):
        if status not in Run.Status.values:
            return _error(400, f"status must be one of {', '.join(Run.Status.values)}")
        qs = qs.filter(status=status)
    if status:
        # A run changes status without a new id, so no cheap version covers a count by status: count it. (A stale
        # count is not only a wrong number: the paginator cuts the page's results at it.)
        return paginate(request, qs, lambda r: run_json(r, request))
    # Without a status filter only new runs change the total (the newest id versions it) and deletions (they lower
    # it, so a stale count is too high, never hiding a row; a short lifetime covers them).
    newest = Run.objects.aggregate(newest=Max("pk"))["newest"]
    # The filters as parsed (config 7 and 007 are one key), so spellings of one filter share a count.
    filters = f"environment={slug or ''}&config={int(config) if config else ''}"
    count_key = f"lb:api:runs:{newest}:{digest(filters)}"
    return paginate(request, qs, lambda r: run_json(r, request), count_key=count_key)


@read_only
def run_detail(request: HttpRequest, pk: int) -> JsonResponse:
    """One run with its per-update metrics (``metrics``: list of ``{update, steps, metrics}``).

    At most ``MAX_RUN_UPDATES`` updates per answer, those after ``?after=<update>``; when more remain,
    ``metrics_next`` is the URL of the next part (``null`` otherwise), so no client mistakes a part for the whole.
    """
    after = request.GET.get("after")
    if after is not None and not (len(after) <= 9 and after.isascii() and after.isdigit()):
        return _error(400, "after must be an update number (a non-negative integer)")
    run = Run.objects.filter(pk=pk).values(*RUN_VALUES).first()
    if run is None:
        return _error(404, f"no run {pk}")
    rows = RunMetric.objects.filter(run_id=pk)
    if after is not None:
        rows = rows.filter(update__gt=int(after))
    updates = list(rows.order_by("update").values("update", "steps", "metrics")[: MAX_RUN_UPDATES + 1])
    more = len(updates) > MAX_RUN_UPDATES
    updates = updates[:MAX_RUN_UPDATES]
    next_url = f"{request.build_absolute_uri(request.path)}?after={updates[-1]['update']}" if more else None
    return JsonResponse({**run_json(run, request), "metrics": updates, "metrics_next": next_url})


# The query parameters a board answer depends on.
BOARD_PARAMS = ("sort", "page", "page_size")


def _canonical_query(request: HttpRequest, columns: list[boards.Column]) -> bool:
    """Whether the query holds only BOARD_PARAMS, each once and in its one spelling (a known sort key, integers
    without padding). Only such answers are cached: keyed on any URL, ``?junk=<random>`` stored a copy of the
    board per request in the shared cache."""
    if any(name not in BOARD_PARAMS or len(request.GET.getlist(name)) != 1 for name in request.GET):
        return False
    sort = request.GET.get("sort")
    if sort is not None and sort != boards.sort_param(*boards.parse_sort(sort, columns)):  # not "--rank", " rank"
        return False
    return all(
        (value := request.GET.get(name)) is None
        or (value.isascii() and value.isdigit() and len(value) <= 9 and (value == "0" or value[0] != "0"))
        for name in ("page", "page_size")
    )


def _cached(
    request: HttpRequest, board_key: str, columns: list[boards.Column], build: Callable[[], JsonResponse]
) -> HttpResponse:
    """A leaderboard answer, cached per board version, absolute path (links in it are absolute) and decoded
    parameters when the query is canonical; any other query is answered without the cache. Keyed on the decoded
    values, not the raw query: ``?sort=r%61nk``, ``?%73ort=rank`` or the parameters in another order made new keys."""
    if not _canonical_query(request, columns):
        return build()
    params = [request.GET.get(name) for name in BOARD_PARAMS]
    key = f"lb:api:{boards.version(board_key)}:{digest(request.build_absolute_uri(request.path), *params)}"
    hit = cache.get(key)
    if hit is not None:
        return HttpResponse(hit, content_type="application/json")
    response = build()
    if response.status_code == 200:
        cache.set(key, response.content, CACHE_SECONDS)
    return response


@read_only
def leaderboards(request: HttpRequest) -> HttpResponse:
    """The overall board, sorted with ``?sort=`` as on the page."""

    def build() -> JsonResponse:
        qs, _, _ = boards.overall_entries(request.GET.get("sort"))
        return paginate(request, qs, boards.overall_row)

    return _cached(request, "overall", boards.OVERALL_COLUMNS, build)


@read_only
def leaderboard_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """An environment's board, sorted with ``?sort=`` as on the page."""
    env = Environment.objects.filter(slug=slug).only("pk", "slug").first()
    if env is None:
        return _error(404, f"no environment {slug!r}")

    def build() -> JsonResponse:
        qs, _, _ = boards.environment_entries(env.pk, request.GET.get("sort"))
        return paginate(request, qs, lambda e: boards.entry_row(e, env.slug))

    return _cached(request, f"env-{env.pk}", boards.ENTRY_COLUMNS, build)
