"""What the catalog's list pages share: the search box's text, the page asked for, and the filters pager links keep."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

PER_PAGE = 50
# Longer than any name or username (80 and 150 characters) needs, short enough that a pasted essay costs nothing.
MAX_SEARCH_CHARS = 100


def search_text(request: HttpRequest) -> str:
    """``?q=`` as it is safe to query: NUL removed (PostgreSQL refuses it in a string, which was a 500), spaces
    trimmed, cut at ``MAX_SEARCH_CHARS`` (a longer text matches nothing anyway)."""
    return request.GET.get("q", "").replace("\x00", "").strip()[:MAX_SEARCH_CHARS]


def page_of(request: HttpRequest, rows: QuerySet[Any]) -> Page:
    """The page ``?page=`` names, as elsewhere on the site: anything not a number is the first page, a number past
    the end the last one (``Paginator.get_page``), so an old or edited link still shows a list."""
    return Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))


def pager_query(**filters: str) -> str:
    """The filters that are set, as a query string the pager appends to its links (a next page of a search stays
    that search)."""
    return urlencode({name: value for name, value in filters.items() if value})
