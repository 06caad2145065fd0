"""CSV and JSON exports of every board: the full board in display order, the same columns in both formats.

An export is a pure function of the board's version, the environment's protocol, its sort and its format, so the
serialised bytes are cached under a key carrying the version (see :func:`leaderboard.boards.version`) and a digest
of the protocol: a refresh, or an admin's edit of the environment, changes the key. The JSON export also carries
the protocol and the score scale (:func:`environment_meta`); the CSV holds the rows only, as CSV readers expect.
"""

from __future__ import annotations

import csv
import hashlib
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
EXPORTED_ENV_FIELDS = (
    "slug", "gym_id", "kwargs", "budget_steps", "eval_episodes", "eval_seed", "deterministic_eval", "min_seeds",
    "random_return", "reference_return", "reference_source", "counts_overall",
)  # fmt: skip


# A text cell starting with one of these is a formula to a spreadsheet (OWASP's "CSV injection"): a config named
# "=HYPERLINK(...)" would run in the reader's spreadsheet. Such cells get a leading apostrophe, which spreadsheets
# show as text. Numbers stay numbers: -156.1 is written by csv from a float, not from a string.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(value: Any) -> Any:
    return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def _serialise(fmt: str, keys: list[str], rows: list[dict[str, Any]], meta: dict[str, Any]) -> bytes:
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=keys)
        writer.writeheader()
        writer.writerows({k: _csv_safe(v) for k, v in row.items()} for row in rows)
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


def environment_meta(env: Environment) -> dict[str, Any]:
    """What a reader of an exported board needs to interpret it: the protocol and the two ends of the score scale.

    ``score = (return - random_return) / (reference_return - random_return)``, so without these numbers an
    exported score cannot be turned back into a return or compared with a paper.
    """
    meta: dict[str, Any] = {"environment": env.slug}
    meta.update({name: getattr(env, name) for name in EXPORTED_ENV_FIELDS if name != "slug"})
    return meta


def environment_export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    env = get_object_or_404(Environment.objects.only("pk", *EXPORTED_ENV_FIELDS), slug=slug)
    column, descending = boards.parse_sort(request.GET.get("sort"), boards.ENTRY_COLUMNS)
    sort = boards.sort_param(column, descending)

    meta = environment_meta(env)

    def build() -> bytes:
        qs, _, _ = boards.environment_entries(env.pk, sort)
        rows = [boards.entry_row(e, env.slug) for e in qs]
        return _serialise(fmt, boards.ENTRY_ROW_KEYS, rows, meta)

    # An admin can edit the environment without any run changing the board's version: the key carries its meta.
    meta_digest = hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()[:16]
    key = f"lb:export:v2:env-{env.pk}:{boards.version(f'env-{env.pk}')}:{meta_digest}:{sort}:{fmt}"
    return _export(fmt, f"leaderboard-{env.slug}", key, build)


def overall_export(request: HttpRequest, fmt: str) -> HttpResponse:
    column, descending = boards.parse_sort(request.GET.get("sort"), boards.OVERALL_COLUMNS)
    sort = boards.sort_param(column, descending)

    def build() -> bytes:
        qs, _, _ = boards.overall_entries(sort)
        rows = [boards.overall_row(o) for o in qs]
        return _serialise(fmt, boards.OVERALL_ROW_KEYS, rows, {"board": "overall"})

    key = f"lb:export:v2:overall:{boards.version('overall')}:{sort}:{fmt}"
    return _export(fmt, "leaderboard-overall", key, build)
