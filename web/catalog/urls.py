from __future__ import annotations

from django.urls import path

import web.converters  # noqa: F401  (registers <id:...>)
from web.catalog import views

app_name = "catalog"
urlpatterns = [
    path("environments/", views.environment_list, name="environments"),
    path("environments/new/", views.environment_create, name="environment_create"),
    path("environments/<slug:slug>/", views.environment_detail, name="environment"),
    path("configs/", views.config_list, name="configs"),
    path("configs/new/", views.config_create, name="config_create"),
    path("configs/import/", views.config_import, name="config_import"),
    path("configs/<id:pk>/", views.config_detail, name="config"),
    path("configs/<id:pk>/edit/", views.config_edit, name="config_edit"),
    path("configs/<id:pk>/delete/", views.config_delete, name="config_delete"),
]
