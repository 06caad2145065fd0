"""Reading boards: the querysets and row shapes that pages, exports and the API share.

Every function here issues a fixed number of queries: rows come with their config through one join, and the
heavy JSON columns (curves, per-seed scores) are left out of tables that do not draw them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Max, OrderBy, OuterRef, QuerySet, Subquery

from leaderboard.models import Board, LeaderboardEntry, OverallEntry
from web.catalog.models import Environment


@dataclass(frozen=True)
class Column:
    """A sortable board column: ``key`` in ``?sort=`` (prefix ``-`` for descending), its model field, and whether a
    phone shows it before the reader asks for every column (``phone``: rank, config and score)."""

    key: str
    label: str
    field: str
    descending_first: bool = False
    phone: bool = False


ENTRY_COLUMNS = [
    Column("rank", "Rank", "rank", phone=True),
    Column("config", "Config", "config__name", phone=True),
    Column("score", "Score (mean)", "score_mean", True, phone=True),
    Column("ci_low", "95% CI low", "ci_low", True),
    Column("ci_high", "95% CI high", "ci_high", True),
    Column("iqm", "IQM", "iqm", True),
    Column("auc", "AUC", "auc", True),
    Column("wall_clock", "Wall-clock (s)", "wall_clock_s"),
    Column("steps_per_s", "Steps/s", "steps_per_s", True),
    Column("seeds", "Seeds", "n_seeds", True),
]
OVERALL_COLUMNS = [
    Column("rank", "Rank", "rank", phone=True),
    Column("config", "Config", "config__name", phone=True),
    Column("iqm", "Normalised IQM", "iqm", True, phone=True),
    Column("ci_low", "95% CI low", "ci_low", True),
    Column("ci_high", "95% CI high", "ci_high", True),
    Column("poi", "P(beats default)", "poi", True),  # short: the table must fit 1280 px; the text explains it
    Column("envs", "Environments", "n_envs", True),
    Column("runs", "Runs", "n_runs", True),
]
TABLE_ONLY = ("curve", "final_scores", "seeds", "config__params", "config__description")


def parse_sort(value: str | None, columns: list[Column]) -> tuple[Column, bool]:
    """``?sort=`` value to (column, descending); unknown keys fall back to rank ascending."""
    by_key = {c.key: c for c in columns}
    raw = (value or "").strip()
    descending = raw.startswith("-")
    column = by_key.get(raw.lstrip("-"))
    if column is None:
        return by_key["rank"], False
    return column, descending


def sort_param(column: Column, descending: bool) -> str:
    """The one spelling of a sort in ``?sort=``: what links carry, cache keys hold, and :func:`parse_sort` reads."""
    return f"-{column.key}" if descending else column.key


def _ordering(column: Column, descending: bool, tiebreak: str, ranking_key: str) -> list[OrderBy]:
    """Nulls always last (an unranked or unmeasured entry never heads a column), then a stable tiebreak: within a
    rank, the order the ranking itself uses (mean, the narrower interval, then the key it ranked by)."""
    expr = F(column.field)
    primary = expr.desc(nulls_last=True) if descending else expr.asc(nulls_last=True)
    width = (F("ci_high") - F("ci_low")).asc(nulls_last=True)
    return [primary, F(tiebreak).desc(nulls_last=True), width, F(ranking_key).asc()]


def environment_entries(env_id: int, sort: str | None = None) -> tuple[QuerySet[LeaderboardEntry], Column, bool]:
    """An environment's entries for a table, sorted by ``sort``, in one query with their configs."""
    column, descending = parse_sort(sort, ENTRY_COLUMNS)
    qs = (
        LeaderboardEntry.objects.filter(environment_id=env_id)
        .select_related("config")
        .defer(*TABLE_ONLY)
        .order_by(*_ordering(column, descending, "score_mean", "pk"))  # ranked by entry id
    )
    return qs, column, descending


def environment_leaders() -> dict[int, LeaderboardEntry]:
    """Each environment's first row on its board in the default order (rank, then the ranking's own tiebreak),
    by environment id, in one query. Ordered by mean alone, the home page named another of the tied leaders."""
    column, descending = parse_sort(None, ENTRY_COLUMNS)
    leaders: dict[int, LeaderboardEntry] = {}
    for e in (
        LeaderboardEntry.objects.filter(rank=1).select_related("config").defer(*TABLE_ONLY)
        .order_by("environment_id", *_ordering(column, descending, "score_mean", "pk"))
    ):  # fmt: skip
        leaders.setdefault(e.environment_id, e)
    return leaders


def overall_entries(sort: str | None = None) -> tuple[QuerySet[OverallEntry], Column, bool]:
    column, descending = parse_sort(sort, OVERALL_COLUMNS)
    qs = (
        OverallEntry.objects.select_related("config")
        .defer("config__params", "config__description")
        .order_by(*_ordering(column, descending, "iqm", "config_id"))  # ranked by config id
    )
    return qs, column, descending


def figures(key: str) -> dict[str, str]:
    """A board's precomputed figure JSON texts (empty when the board has never been computed)."""
    return Board.objects.filter(key=key).values_list("figures", flat=True).first() or {}


def version(key: str) -> str:
    """A board's version: when its precomputed rows last changed (part of every cache key built from it)."""
    stamp = Board.objects.filter(key=key).values_list("updated_at", flat=True).first()
    return stamp.isoformat() if stamp else "none"


def environment_with_version(slug: str) -> Environment | None:
    """The environment with its board's version (``board_version``) and row count (``board_rows``) in one query;
    ``None`` if unknown."""
    board = Board.objects.filter(environment=OuterRef("pk"))
    env = (
        Environment.objects.filter(slug=slug)
        .annotate(
            board_stamp=Subquery(board.values("updated_at")[:1]),
            board_rows=Subquery(board.values("n_entries")[:1]),
        )
        .first()
    )
    if env is not None:
        env.board_rows = env.board_rows or 0  # type: ignore[attr-defined]
        # The page shows the environment's own fields too (scale, source, text): an edit of those changes no board.
        board = env.board_stamp.isoformat() if env.board_stamp else "none"  # type: ignore[attr-defined]
        env.board_version = f"{board}:{env.updated_at.isoformat()}"  # type: ignore[attr-defined]
    return env


def home_version() -> tuple[str, int]:
    """The home page's version and the overall board's row count. The page changes with the overall board
    (refreshed after every entry) and the environment list (an environment added, removed or edited: its slug and
    budget are on the page)."""
    envs = Environment.objects.aggregate(n=Count("pk"), latest=Max("updated_at"))
    latest = envs["latest"].isoformat() if envs["latest"] else "none"
    stamp, rows = Board.objects.filter(key="overall").values_list("updated_at", "n_entries").first() or (None, 0)
    overall = stamp.isoformat() if stamp else "none"
    return f"{overall}:{envs['n']}:{latest}", rows


def last_page(rows: int, page_size: int) -> int:
    """The number of the last page of a board of ``rows`` rows (1 when it is empty)."""
    return max(1, -(-rows // page_size))


def config_label(config: Any) -> str:
    return f"{config.name} v{config.version}"


def entry_row(e: LeaderboardEntry, env_slug: str) -> dict[str, Any]:
    """One environment-board row for exports and the API (the same keys in CSV and JSON)."""
    return {
        "rank": e.rank, "tied": e.tied, "provisional": e.provisional,
        "config_id": e.config_id, "config": config_label(e.config), "environment": env_slug,
        "n_seeds": e.n_seeds, "score_mean": e.score_mean, "ci_low": e.ci_low, "ci_high": e.ci_high,
        "iqm": e.iqm, "auc": e.auc, "wall_clock_s": e.wall_clock_s, "steps_per_s": e.steps_per_s,
        "updated_at": e.updated_at.isoformat(),
    }  # fmt: skip


def overall_row(o: OverallEntry) -> dict[str, Any]:
    """One overall-board row for exports and the API."""
    return {
        "rank": o.rank, "tied": o.tied, "provisional": o.provisional,
        "config_id": o.config_id, "config": config_label(o.config),
        "iqm": o.iqm, "ci_low": o.ci_low, "ci_high": o.ci_high,
        "poi": o.poi, "poi_low": o.poi_low, "poi_high": o.poi_high, "poi_n_envs": o.poi_n_envs,
        "n_envs": o.n_envs, "n_runs": o.n_runs, "updated_at": o.updated_at.isoformat(),
    }  # fmt: skip


ENTRY_ROW_KEYS = [
    "rank", "tied", "provisional", "config_id", "config", "environment", "n_seeds", "score_mean",
    "ci_low", "ci_high", "iqm", "auc", "wall_clock_s", "steps_per_s", "updated_at",
]  # fmt: skip
OVERALL_ROW_KEYS = [
    "rank", "tied", "provisional", "config_id", "config", "iqm", "ci_low", "ci_high", "poi", "poi_low",
    "poi_high", "poi_n_envs", "n_envs", "n_runs", "updated_at",
]  # fmt: skip
