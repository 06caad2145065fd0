"""Template filters for the run page's charts (the ``run_charts`` library, registered in settings)."""

from __future__ import annotations

from django import template

from web.runs import charts

register = template.Library()


@register.filter
def chart_label(key: str) -> str:
    """A run chart's accessible name (its box is a ``<figure>`` named by ``aria-label``)."""
    return charts.chart_label(key)
