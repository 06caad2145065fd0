"""An admin for rows that are derived or recorded, never typed: view only, deleted only with what owns them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


class ViewOnlyAdmin(admin.ModelAdmin):
    """No add, change or direct delete. The delete permission itself stays: deleting what owns these rows (a run,
    an environment, a config) cascades to them, and the admin checks that permission on every row a cascade
    reaches. ``delete_refusal`` says what to delete instead."""

    delete_refusal = "These rows go with what owns them: delete that instead."

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The kept delete permission would show a Delete link that delete_view refuses.
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "show_delete": False})

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        raise PermissionDenied(self.delete_refusal)
