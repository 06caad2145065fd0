"""Development on one machine: works with nothing configured (SQLite file, filesystem broker, local media)."""

from __future__ import annotations

from web.settings.base import *  # noqa: F403
from web.settings.base import BROKER_DIR, STATIC_ROOT, VAR_DIR
from web.settings.env import env_bool, env_str

DEBUG = env_bool("DEBUG", True)
# Not a secret: local mode only ever listens on 127.0.0.1. production.py refuses to start without a real one.
SECRET_KEY = env_str("SECRET_KEY", "local-development-key-not-for-production-use-0123456789")

# Whitenoise serves files straight from the finders in development (no collectstatic needed).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

for folder in (VAR_DIR, STATIC_ROOT, BROKER_DIR / "queue", BROKER_DIR / "control", BROKER_DIR / "processed"):
    folder.mkdir(parents=True, exist_ok=True)

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
