"""Production: every secret and service from the environment, HTTPS only, no debug. ``check --deploy`` is clean."""

from __future__ import annotations

from web.settings.base import *  # noqa: F403
from web.settings.env import env_bool, env_int, env_list, env_secret, env_str

DEBUG = False
SECRET_KEY = env_secret("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
# Production runs on PostgreSQL and Redis: SQLite and the filesystem broker cannot be shared between machines.
DATABASE_URL = env_str("DATABASE_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
# Several gunicorn processes must share page caches and login rate limits: the broker's Redis unless told otherwise.
CACHE_URL = env_str("CACHE_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else "")
CACHES = caches_for(CACHE_URL)  # noqa: F405

# TLS is usually terminated by a proxy in front of gunicorn; it must set X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Only for trying the stack on plain http://localhost; check --deploy flags it when off.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
