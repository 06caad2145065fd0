from __future__ import annotations

from django.urls import path

from web.catalog import views

app_name = "catalog"
urlpatterns = [
    path("environments/", views.environment_list, name="environments"),
    path("environments/new/", views.environment_create, name="environment_create"),
    path("environments/<slug:slug>/", views.environment_detail, name="environment"),
    path("configs/", views.config_list, name="configs"),
    path("configs/new/", views.config_create, name="config_create"),
    path("configs/import/", views.config_import, name="config_import"),
    path("configs/<int:pk>/", views.config_detail, name="config"),
    path("configs/<int:pk>/edit/", views.config_edit, name="config_edit"),
    path("configs/<int:pk>/delete/", views.config_delete, name="config_delete"),
]
