"""Read-only admin views of the precomputed rows: they are rebuilt from runs, so editing them would be undone."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from leaderboard.models import Board, LeaderboardEntry, OverallEntry


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # No direct deletion either (a deleted entry vanished from its board until some unrelated refresh rebuilt it);
    # delete permission itself stays, since deleting an environment or a config cascades to these rows and the
    # admin checks that permission on every row a cascade reaches.
    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        raise PermissionDenied("Leaderboard rows are rebuilt from runs: delete runs instead.")


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
