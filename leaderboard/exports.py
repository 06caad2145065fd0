"""CSV and JSON exports of every board: the full board in display order, the same columns in both formats.

An export is a pure function of the board's version, its sort and its format, so the serialised bytes are
cached under a key carrying the version (see :func:`leaderboard.boards.version`): a refresh changes the key.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from leaderboard import boards
from web.catalog.models import Environment

FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
CACHE_SECONDS = 3600


def _serialise(fmt: str, keys: list[str], rows: list[dict[str, Any]], meta: dict[str, Any]) -> bytes:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().encode()
    return json.dumps({**meta, "entries": rows}, indent=1).encode()


def _export(fmt: str, name: str, key: str, build: Callable[[], bytes]) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404("unknown export format")
    body = cache.get(key)
    if body is None:
        body = build()
        cache.set(key, body, CACHE_SECONDS)
    response = HttpResponse(body, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def environment_export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    env = get_object_or_404(Environment.objects.only("pk", "slug", "gym_id", "min_seeds", "budget_steps"), slug=slug)
    column, descending = boards.parse_sort(request.GET.get("sort"), boards.ENTRY_COLUMNS)
    sort = f"-{column.key}" if descending else column.key

    def build() -> bytes:
        qs, _, _ = boards.environment_entries(env.pk, sort)
        rows = [boards.entry_row(e, env.slug) for e in qs]
        meta = {"environment": env.slug, "gym_id": env.gym_id, "min_seeds": env.min_seeds,
                "budget_steps": env.budget_steps}  # fmt: skip
        return _serialise(fmt, boards.ENTRY_ROW_KEYS, rows, meta)

    key = f"lb:export:env-{env.pk}:{boards.version(f'env-{env.pk}')}:{sort}:{fmt}"
    return _export(fmt, f"leaderboard-{env.slug}", key, build)


def overall_export(request: HttpRequest, fmt: str) -> HttpResponse:
    column, descending = boards.parse_sort(request.GET.get("sort"), boards.OVERALL_COLUMNS)
    sort = f"-{column.key}" if descending else column.key

    def build() -> bytes:
        qs, _, _ = boards.overall_entries(sort)
        rows = [boards.overall_row(o) for o in qs]
        return _serialise(fmt, boards.OVERALL_ROW_KEYS, rows, {"board": "overall"})

    key = f"lb:export:overall:{boards.version('overall')}:{sort}:{fmt}"
    return _export(fmt, "leaderboard-overall", key, build)
