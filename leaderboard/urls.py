"""Public leaderboard pages (mounted at the site root)."""

from __future__ import annotations

from django.urls import path  # noqa: F401

app_name = "leaderboard"
urlpatterns: list = []
