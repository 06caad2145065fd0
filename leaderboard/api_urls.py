"""Read-only JSON API (mounted at /api/)."""

from __future__ import annotations

from django.urls import path

import web.converters  # noqa: F401  (registers <id:...>)
from leaderboard import api

app_name = "api"
urlpatterns = [
    path("", api.index, name="index"),
    path("environments/", api.environments, name="environments"),
    path("environments/<slug:slug>/", api.environment_detail, name="environment"),
    path("configs/", api.configs, name="configs"),
    path("configs/<id:pk>/", api.config_detail, name="config"),
    path("runs/", api.runs, name="runs"),
    path("runs/<id:pk>/", api.run_detail, name="run"),
    path("leaderboards/", api.leaderboards, name="leaderboards"),
    path("leaderboards/<slug:slug>/", api.leaderboard_detail, name="leaderboard"),
]
