"""Public leaderboard pages (mounted at the site root)."""

from __future__ import annotations

from django.urls import path

import web.converters  # noqa: F401  (registers <id:...>)
from leaderboard import exports, views

app_name = "leaderboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("compare/", views.compare_configs, name="compare"),
    path("boards/overall.<str:fmt>", exports.overall_export, name="overall_export"),
    path("boards/<slug:slug>/", views.environment_board, name="environment"),
    path("boards/<slug:slug>/export.<str:fmt>", exports.environment_export, name="environment_export"),
    path("boards/<slug:slug>/entries/<id:config_id>/", views.entry_detail, name="entry"),
    path("boards/<slug:slug>/entries/<id:config_id>/reproduce/", views.reproduce, name="reproduce"),
]
