"""pytest settings: the real PostgreSQL and Redis of this machine (pytest-django creates the test database)."""

from __future__ import annotations

import dj_database_url

from web.settings.env import env_str
from web.settings.local import *  # noqa: F403

DEBUG = False
DATABASE_URL = env_str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests create many users
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": TRUSTBOARD_MAX_RUN_SECONDS + 3600}  # noqa: F405
