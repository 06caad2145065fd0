"""Site URLs: the leaderboard owns "/" and "/api/"; accounts, catalog and runs have their own prefixes."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from web.accounts.forms import RateLimitedAdminAuthenticationForm

admin.site.login_form = RateLimitedAdminAuthenticationForm  # same lockout as the site's log-in

urlpatterns = [
    path("accounts/", include("web.accounts.urls")),
    path("", include("web.catalog.urls")),
    path("runs/", include("web.runs.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("leaderboard.api_urls")),
    path("", include("leaderboard.urls")),
]

# MEDIA_ROOT is never served, not even with DEBUG: it holds resume states (torch files of training in progress)
# besides checkpoints, and checkpoints download through runs:checkpoint, which checks the run.
