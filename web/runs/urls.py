from __future__ import annotations

from django.urls import path

from web.runs import views

app_name = "runs"
urlpatterns = [
    path("new/", views.submit, name="submit"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/status.json", views.status_json, name="status"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/checkpoint/", views.checkpoint, name="checkpoint"),
]
