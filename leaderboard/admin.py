"""Read-only admin views of the precomputed rows: they are rebuilt from runs, so editing them would be undone."""

from __future__ import annotations

from django.contrib import admin

from leaderboard.models import Board, LeaderboardEntry, OverallEntry
from web.admin_readonly import ViewOnlyAdmin


class ReadOnlyAdmin(ViewOnlyAdmin):
    # A deleted entry vanished from its board until some unrelated refresh rebuilt it.
    delete_refusal = "Leaderboard rows are rebuilt from runs: delete runs instead."


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
