from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "web.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.apps import apps

        from web.accounts.username_index import restore_after_migrate

        # This app has no models, so post_migrate is never sent for it; auth's is sent by every migrate.
        auth = apps.get_app_config("auth")
        post_migrate.connect(restore_after_migrate, sender=auth, dispatch_uid="accounts.username_index")
