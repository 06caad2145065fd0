"""Read-only admin views of the precomputed rows: they are rebuilt from runs, so editing them would be undone."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from leaderboard.models import Board, LeaderboardEntry, OverallEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a deleted entry vanished from its board until some unrelated refresh rebuilt it


@admin.register(LeaderboardEntry)
class LeaderboardEntryAdmin(ReadOnlyAdmin):
    list_display = ["environment", "config", "rank", "tied", "provisional", "n_seeds", "score_mean", "updated_at"]
    list_filter = ["environment", "provisional"]
    list_select_related = ["environment", "config"]


@admin.register(OverallEntry)
class OverallEntryAdmin(ReadOnlyAdmin):
    list_display = ["config", "rank", "tied", "provisional", "iqm", "poi", "n_envs", "updated_at"]
    list_select_related = ["config"]


@admin.register(Board)
class BoardAdmin(ReadOnlyAdmin):
    list_display = ["key", "n_entries", "updated_at"]
