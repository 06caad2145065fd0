from __future__ import annotations

from django.urls import path

import web.converters  # noqa: F401  (registers <id:...>)
from web.runs import views

app_name = "runs"
urlpatterns = [
    path("", views.run_list, name="list"),
    path("new/", views.submit, name="submit"),
    path("mine/", views.mine, name="mine"),
    path("<id:pk>/", views.detail, name="detail"),
    path("<id:pk>/status.json", views.status_json, name="status"),
    path("<id:pk>/cancel/", views.cancel, name="cancel"),
    path("<id:pk>/delete/", views.delete, name="delete"),
    path("<id:pk>/checkpoint/", views.checkpoint, name="checkpoint"),
]
