from __future__ import annotations

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "web.catalog"
    label = "catalog"
    verbose_name = "Environments and TRPO configs"
