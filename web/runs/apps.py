from __future__ import annotations

from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "web.runs"
    label = "runs"
    verbose_name = "Training runs"
