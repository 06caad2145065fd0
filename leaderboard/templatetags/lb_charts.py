"""Template filters for the leaderboard's figures."""

from __future__ import annotations

from django import template

from leaderboard import charts

register = template.Library()


@register.filter
def figure_height(text: str) -> int:
    """The height a figure's JSON asks for, reserved on its box so the page does not move when plotly draws it."""
    return charts.figure_height(text)


@register.filter
def figure_label(name: str) -> str:
    """A figure's accessible name (its box is a ``<figure>`` named by ``aria-label``), from its name on the page."""
    return charts.figure_label(name)
