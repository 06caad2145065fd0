"""Settings shared by every deployment; each value that varies between machines comes from the environment."""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from web.settings.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(env_str("TRUSTBOARD_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "web.accounts",
    "web.catalog",
    "web.runs",
    "leaderboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "web.urls"
WSGI_APPLICATION = "web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # How numbers are printed, one rule per quantity, for every app's templates (web/numbers.py).
            "libraries": {"numbers": "web.numbers", "run_charts": "web.runs.chart_tags"},
        },
    },
]

# SQLite by default so a fresh checkout runs with nothing configured; DATABASE_URL switches to PostgreSQL.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'trustboard.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("CONN_MAX_AGE", 60, minimum=0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write the same file: WAL lets readers proceed while a writer commits,
    # IMMEDIATE takes the write lock up front so two writers wait instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "runs:mine"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.js comes from the plotly Python package, so the page and the figures always agree on a version.
    "web.staticfinders.PlotlyJsFinder",
]
STATICFILES_DIRS = [BASE_DIR / "web" / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

# Checkpoints go through Django's storage API: local files by default, any S3-compatible store on request.
STORAGE_BACKEND = env_str("TRUSTBOARD_STORAGE", "local")
if STORAGE_BACKEND == "s3":
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("AWS_S3_REGION_NAME", "") or None,
            "location": env_str("AWS_LOCATION", "checkpoints"),
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
elif STORAGE_BACKEND == "local":
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"TRUSTBOARD_STORAGE={STORAGE_BACKEND!r}: use 'local' or 's3'.")
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}


# --- Cache: rendered leaderboard pages and login rate-limit counters -------------------------------------------
def caches_for(url: str) -> dict[str, dict[str, str]]:
    """Redis when CACHE_URL is set, so every web process shares one cache (and one rate-limit count); otherwise
    each process keeps its own in memory, which is right for the single-process local default."""
    if url:
        return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                            "KEY_PREFIX": "trustboard", "KEY_FUNCTION": "web.cachekeys.make_key"}}  # fmt: skip
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_FUNCTION": "web.cachekeys.make_key",
        }
    }


CACHE_URL = env_str("CACHE_URL", "")
CACHES = caches_for(CACHE_URL)

# --- Celery (read by web/celery.py through the CELERY_ namespace) ---------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
# The longest a run may take; every task's hard limit is capped here, and Redis must not redeliver before it.
TRUSTBOARD_MAX_RUN_SECONDS = env_int("TRUSTBOARD_MAX_RUN_SECONDS", 24 * 3600, minimum=60)
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: the embedded broker that needs no server (one machine only).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
    }
else:
    # With late acks, Redis redelivers an unacknowledged message after visibility_timeout: it must exceed the
    # longest run or a healthy long run would be started twice.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": TRUSTBOARD_MAX_RUN_SECONDS + 3600}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True  # the database row is the result; nothing reads Celery results
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("CELERY_WORKER_MAX_TASKS_PER_CHILD", 20, minimum=1)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_TASK_CREATE_MISSING_QUEUES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE

# --- Trustboard -------------------------------------------------------------------------------------------------
# Queue for configs whose device is "auto": "cpu" unless this deployment has GPU workers and wants them used.
TRUSTBOARD_AUTO_QUEUE = env_str("TRUSTBOARD_AUTO_QUEUE", "cpu")
# Whether any worker serves the "gpu" queue. Set false where none does (scripts/run.sh does on a machine without
# CUDA): runs routed there would wait forever, so such submissions are refused with the reason instead.
TRUSTBOARD_GPU_WORKERS = env_bool("TRUSTBOARD_GPU_WORKERS", True)
# Time limits: budget_steps / this rate + overhead. Deliberately pessimistic: a limit that kills a healthy run
# is worse than one that lets a stuck run live a little longer.
TRUSTBOARD_MIN_STEPS_PER_S = env_float("TRUSTBOARD_MIN_STEPS_PER_S", 50.0, minimum=0.001)
TRUSTBOARD_RUN_OVERHEAD_SECONDS = env_int("TRUSTBOARD_RUN_OVERHEAD_SECONDS", 600, minimum=0)
TRUSTBOARD_MAX_SEEDS = 10
# Per-user quotas (web/runs/quotas.py): runs queued or running at once, training steps per rolling 24 hours.
TRUSTBOARD_MAX_ACTIVE_RUNS = env_int("TRUSTBOARD_MAX_ACTIVE_RUNS", 20, minimum=1)
TRUSTBOARD_MAX_STEPS_PER_DAY = env_int("TRUSTBOARD_MAX_STEPS_PER_DAY", 20_000_000, minimum=1)
# Failed log-ins allowed per username and per address within the window (web/accounts/ratelimit.py).
TRUSTBOARD_LOGIN_MAX_FAILURES = env_int("TRUSTBOARD_LOGIN_MAX_FAILURES", 5, minimum=1)
TRUSTBOARD_LOGIN_MAX_FAILURES_PER_IP = env_int("TRUSTBOARD_LOGIN_MAX_FAILURES_PER_IP", 20, minimum=1)
# New accounts per client address per hour: every account brings its own run and step quotas.
TRUSTBOARD_SIGNUPS_PER_IP_PER_HOUR = env_int("TRUSTBOARD_SIGNUPS_PER_IP_PER_HOUR", 5, minimum=1)
TRUSTBOARD_LOGIN_WINDOW_SECONDS = env_int("TRUSTBOARD_LOGIN_WINDOW_SECONDS", 15 * 60, minimum=1)
# Reverse proxies in front of the web server that append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTBOARD_TRUSTED_PROXIES = env_int("TRUSTBOARD_TRUSTED_PROXIES", 0, minimum=0)
# Registered gymnasium ids outside gymnasium itself that this site allows (web/catalog/safety.py).
TRUSTBOARD_EXTRA_GYM_IDS = env_list("TRUSTBOARD_EXTRA_GYM_IDS", [])

# --- Fault tolerance (docs/RELIABILITY.md) ----------------------------------------------------------------------
# A running run saves a resumable training state every this many updates.
TRUSTBOARD_CHECKPOINT_EVERY = env_int("TRUSTBOARD_CHECKPOINT_EVERY", 5, minimum=1)
# A running run whose heartbeat (one per update) is older than this lost its worker: it is requeued to resume.
TRUSTBOARD_HEARTBEAT_TIMEOUT = env_int("TRUSTBOARD_HEARTBEAT_TIMEOUT", 600, minimum=2)
# A run that has lost its worker this many times fails with a reason instead of being requeued again.
TRUSTBOARD_MAX_ATTEMPTS = env_int("TRUSTBOARD_MAX_ATTEMPTS", 3, minimum=1)
# A queued run that no broker message carries (a broker restarted empty) is re-enqueued after this long.
TRUSTBOARD_REQUEUE_AFTER = env_int("TRUSTBOARD_REQUEUE_AFTER", 60, minimum=0)
# How long a worker keeps retrying when the database is unreachable mid-run.
TRUSTBOARD_DB_RETRY_SECONDS = env_float("TRUSTBOARD_DB_RETRY_SECONDS", 120.0, minimum=0.0)
# The reconciler runs this often under Celery beat. Its messages go to their own `control` queue, served by a
# small worker of its own (`celery -A web worker -B -Q control`): on the training queue they would wait behind
# every queued run (prefetch 1, one run at a time), which is exactly when recovery is needed. A message that
# could not run before the next one was sent expires instead of piling up.
TRUSTBOARD_RECONCILE_EVERY = env_int("TRUSTBOARD_RECONCILE_EVERY", 60, minimum=1)
CONTROL_QUEUE = "control"
CELERY_BEAT_SCHEDULE = {
    "reconcile-runs": {
        "task": "runs.reconcile",
        "schedule": float(TRUSTBOARD_RECONCILE_EVERY),
        "options": {"queue": CONTROL_QUEUE, "expires": float(TRUSTBOARD_RECONCILE_EVERY)},
    },
    # After a deploy, boards whose figures the previous release built are rebuilt by the new code (one query when
    # none is stale).
    "rebuild-stale-boards": {
        "task": "leaderboard.rebuild_stale_boards",
        "schedule": float(TRUSTBOARD_RECONCILE_EVERY),
        "options": {"queue": CONTROL_QUEUE, "expires": float(TRUSTBOARD_RECONCILE_EVERY)},
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
