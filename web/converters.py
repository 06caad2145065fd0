"""URL converters shared by the site's URL modules."""

from __future__ import annotations

from django.urls import register_converter


class DatabaseId:
    """A row id: at most 18 digits, so every id a URL accepts fits a 64-bit integer column.

    ``<int:…>`` accepts any length; Django range-checks primary-key lookups, but a foreign-key lookup
    (``config_id=…``) with 2**63 raised OverflowError in the database driver, a 500. Longer ids are a 404 here.
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(DatabaseId, "id")
