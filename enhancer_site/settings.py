"""All configuration comes from the environment; every variable has a working local default.

Three modes, by ``DJANGO_DEBUG``:

* unset — a local run (``make run``, ``manage.py`` commands on a checkout): Django's debug pages
  off (visitors get the site's own 404/500 pages), plain http on 127.0.0.1/localhost, a secret
  key made once and kept in var/secret_key, static files served by WhiteNoise;
* ``true`` — the same with Django's debug pages (``make run DEBUG=1``);
* ``false`` — production: refuses to start without ``DJANGO_SECRET_KEY`` and
  ``DJANGO_ALLOWED_HOSTS`` (a forgotten secret is a crash, not a silent default), HTTPS on.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import environ

from apps.common import log_format

# The engine's one list of operation names (a light import: no numpy, no Django).
from apps.imaging.operation import NAMES as OPERATION_NAMES

from . import storage_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ENHANCER_VAR_DIR", BASE_DIR / "var"))
# 0700: the database, the broker's messages and every photo live here, for this user only.
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; real environment variables win

DEBUG = env.bool("DJANGO_DEBUG", default=False)
TESTING = env.bool("ENHANCER_TESTING", default=False)
# Production is asked for by name (DJANGO_DEBUG=false, as the image and compose set it).
PRODUCTION = bool(os.environ.get("DJANGO_DEBUG", "").strip()) and not DEBUG


def _local_secret_key() -> str:
    """A key for this checkout, made on first use and kept (0600), so sessions survive restarts
    without a well-known default key. Written whole then linked into place: the web server and
    the workers start together, and none may read a half-written key."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        import secrets
        import tempfile

        descriptor, draft = tempfile.mkstemp(dir=VAR_DIR, prefix=".secret_key-")  # 0600
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first: its key is the one
        finally:
            os.unlink(draft)
    return path.read_text().strip()


if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or _local_secret_key()
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    "apps.accounts",
    "apps.uploads",
    "apps.history",
    "apps.face_registry",
    "apps.api",
    "apps.monitoring",
]

MIDDLEWARE = [
    # Before everything: every answer, a refusal included, carries its X-Request-ID and is
    # counted (apps/monitoring).
    "apps.common.request_id.RequestIdMiddleware",
    "apps.common.metrics.HttpMetricsMiddleware",
    # First: an oversized body is refused before anything reads or spools it.
    "enhancer_site.request_limits.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's documented place: after sessions, before common. The language comes from the
    # switcher's cookie, else Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "enhancer_site.urls"
WSGI_APPLICATION = "enhancer_site.wsgi.application"
ASGI_APPLICATION = "enhancer_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'enhancer.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so a real Celery worker process can share the test database; WAL and
    # a busy timeout let the web process and the worker write without "database is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
    # sqlite3 would create the file 0644 (and its -wal/-shm files copy that mode): create it
    # 0600 first, so other local users cannot read accounts, tokens or face embeddings.
    _sqlite_name = DATABASES["default"]["NAME"]
    if (
        _sqlite_name and _sqlite_name != ":memory:" and not os.path.exists(_sqlite_name)
        and os.path.isdir(os.path.dirname(str(_sqlite_name)) or ".")
    ):
        os.close(os.open(_sqlite_name, os.O_CREAT | os.O_WRONLY, 0o600))
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "history:list"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en"
# The languages of the clouds we replace (VK, Baidu, Meitu) besides English; chosen from the
# browser's Accept-Language unless the visitor picked one with the switcher.
LANGUAGES = [("en", "English"), ("ru", "Русский"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

# Uploaded photos and results are private: no MEDIA_URL is served; every file goes through a
# view that checks ownership. They live under MEDIA_ROOT, or in the S3-compatible bucket that
# ENHANCER_STORAGE_URL names when web servers and workers run on several machines.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
_MEDIA_STORAGE = storage_url.parse(env.str("ENHANCER_STORAGE_URL", default=""))
ENHANCER_STORAGE_PRESIGNED_SECONDS = _MEDIA_STORAGE.presigned_seconds
STORAGES = {
    "default": _MEDIA_STORAGE.backend,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION and not TESTING
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# A local run serves static files through WhiteNoise with or without debug (runserver serves
# none with DEBUG off), straight from the apps' folders, so it works before any collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION
# Requests carry whole photos; Django's own caps must not be lower than the image limit.
ENHANCER_MAX_UPLOAD_BYTES = env.int("ENHANCER_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
ENHANCER_MAX_PIXELS = env.int("ENHANCER_MAX_PIXELS", default=50_000_000)
ENHANCER_MIN_SIDE = env.int("ENHANCER_MIN_SIDE", default=48)
ENHANCER_MAX_FILES_PER_UPLOAD = env.int("ENHANCER_MAX_FILES_PER_UPLOAD", default=20)
# Bodies that are not files (form fields, the Meitu/Baidu base64 JSON and forms) are read into
# memory: 16 MB holds Meitu's largest request (ENHANCER_MEITU_MAX_MEDIA images of 2 MB in base64).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=16 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = ENHANCER_MAX_FILES_PER_UPLOAD
# Photos, results and face thumbnails are private to the service's own user.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

ENHANCER_MODEL_DIR = Path(env.str("ENHANCER_MODEL_DIR", default=str(VAR_DIR / "models")))
# The engine is Django-free and reads its configuration from the environment.
os.environ.setdefault("ENHANCER_MODEL_DIR", str(ENHANCER_MODEL_DIR))
os.environ.setdefault("ENHANCER_CACHE_DIR", str(VAR_DIR / "cache"))

# Which provider performs each operation: "local" (this machine) or "vk", "baidu", "meitu".
ENHANCER_PROVIDERS = {
    operation: env.str(f"ENHANCER_PROVIDER_{operation.upper()}", default="local")
    for operation in OPERATION_NAMES
}
ENHANCER_JOB_SOFT_TIME_LIMIT = env.int("ENHANCER_JOB_SOFT_TIME_LIMIT", default=15 * 60)
# Stuck jobs (apps/uploads/liveness.py): the worker running a job marks it alive every
# HEARTBEAT seconds; a job silent for STALE seconds lost its worker and is taken over by a
# redelivered message or the beat sweeper, at most MAX_ATTEMPTS times in all, then failed.
ENHANCER_JOB_HEARTBEAT_SECONDS = env.float("ENHANCER_JOB_HEARTBEAT_SECONDS", default=10.0)
ENHANCER_JOB_STALE_SECONDS = env.float("ENHANCER_JOB_STALE_SECONDS", default=60.0)
ENHANCER_JOB_MAX_ATTEMPTS = env.int("ENHANCER_JOB_MAX_ATTEMPTS", default=3)
ENHANCER_SWEEP_SECONDS = env.float("ENHANCER_SWEEP_SECONDS", default=60.0)
# Jobs older than this many days are deleted with their inputs and outputs; 0 keeps them.
ENHANCER_RETENTION_DAYS = env.int("ENHANCER_RETENTION_DAYS", default=0)
# The VK / Baidu / Meitu endpoints are synchronous: how long a request waits for its job.
ENHANCER_COMPAT_WAIT_SECONDS = env.float("ENHANCER_COMPAT_WAIT_SECONDS", default=120.0)
# Worker processes per queue (scripts/worker.sh starts them so); queue ETAs divide by these.
ENHANCER_QUEUE_CONCURRENCY = {
    "light": env.int("ENHANCER_LIGHT_CONCURRENCY", default=os.cpu_count() or 1),
    "heavy": env.int("ENHANCER_HEAVY_CONCURRENCY", default=1),
}
# Meitu ``rsp_media_type=url`` results: how long the signed download link works.
ENHANCER_SIGNED_URL_SECONDS = env.int("ENHANCER_SIGNED_URL_SECONDS", default=3600)
# Outgoing cloud providers (apps/providers/vk.py, baidu.py, meitu.py).
ENHANCER_VK_URL = env.str("ENHANCER_VK_URL", default="https://smarty.mail.ru")
ENHANCER_VK_TOKEN = env.str("ENHANCER_VK_TOKEN", default="")
ENHANCER_BAIDU_URL = env.str("ENHANCER_BAIDU_URL", default="https://aip.baidubce.com")
ENHANCER_BAIDU_API_KEY = env.str("ENHANCER_BAIDU_API_KEY", default="")
ENHANCER_BAIDU_SECRET_KEY = env.str("ENHANCER_BAIDU_SECRET_KEY", default="")
ENHANCER_MEITU_URL = env.str("ENHANCER_MEITU_URL", default="https://openapi.mtlab.meitu.com")
ENHANCER_MEITU_API_KEY = env.str("ENHANCER_MEITU_API_KEY", default="")
ENHANCER_MEITU_API_SECRET = env.str("ENHANCER_MEITU_API_SECRET", default="")
ENHANCER_PROVIDER_TIMEOUT = env.float("ENHANCER_PROVIDER_TIMEOUT", default=120.0)
ENHANCER_PROVIDER_RETRIES = env.int("ENHANCER_PROVIDER_RETRIES", default=2)

# --- Abuse limits (docs/security.md) ----------------------------------------------------------
# Requests to user-given URLs (webhooks; apps/api/outbound.py) reach public addresses only,
# unless a network is listed here (an operator's own receivers). Strict by default.
ENHANCER_OUTBOUND_ALLOWED_NETWORKS = env.list("ENHANCER_OUTBOUND_ALLOWED_NETWORKS", default=[])
ENHANCER_OUTBOUND_TIMEOUT = env.float("ENHANCER_OUTBOUND_TIMEOUT", default=10.0)  # in all
ENHANCER_OUTBOUND_MAX_BYTES = env.int("ENHANCER_OUTBOUND_MAX_BYTES", default=64 * 1024)
ENHANCER_WEBHOOK_ATTEMPTS = env.int("ENHANCER_WEBHOOK_ATTEMPTS", default=4)
# Bodies of pages and forms that carry no photo (login, signup, admin…); photo endpoints get
# ENHANCER_MAX_UPLOAD_BYTES per file (enhancer_site/request_limits.py).
ENHANCER_MAX_FORM_BYTES = env.int("ENHANCER_MAX_FORM_BYTES", default=256 * 1024)
# Jobs one compat request may create: VK images × modes, Meitu media_info_list items. Neither
# spec states a number.
ENHANCER_VK_MAX_JOBS = env.int("ENHANCER_VK_MAX_JOBS", default=10)
ENHANCER_MEITU_MAX_MEDIA = env.int("ENHANCER_MEITU_MAX_MEDIA", default=5)
# Jobs a signed-in user may start from the web pages per UTC day; 0 = no limit.
ENHANCER_WEB_DAILY_JOBS = env.int("ENHANCER_WEB_DAILY_JOBS", default=200)
# Sign-in: after this many failures for one user name from one address, wait this long.
ENHANCER_LOGIN_MAX_FAILURES = env.int("ENHANCER_LOGIN_MAX_FAILURES", default=5)
ENHANCER_LOGIN_LOCKOUT_SECONDS = env.int("ENHANCER_LOGIN_LOCKOUT_SECONDS", default=15 * 60)
# Reverse proxies in front of gunicorn that append to X-Forwarded-For; the client's address is
# read that many entries from the right (0: the header is ignored).
ENHANCER_TRUSTED_PROXIES = env.int("ENHANCER_TRUSTED_PROXIES", default=0)
# /healthz shows only its status to the public; staff, or "Authorization: Bearer <token>"
# with this token, see the details. The worker ping is reused for a few seconds.
ENHANCER_HEALTHZ_TOKEN = env.str("ENHANCER_HEALTHZ_TOKEN", default="")
ENHANCER_HEALTHZ_CACHE_SECONDS = env.float("ENHANCER_HEALTHZ_CACHE_SECONDS", default=15.0)
# Login failures and the health cache live here. Per process by default; with several web
# processes, point CACHE_URL at Redis (redis://host:6379/1) so they share the counts.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# Celery: by default an embedded filesystem broker that needs no server; results in the database.
# The embedded broker's folder is the queue: machines sharing it (tests, one host) share the
# queue even when each has its own ENHANCER_VAR_DIR.
BROKER_DIR = Path(env.str("ENHANCER_BROKER_DIR", default=str(VAR_DIR / "broker")))
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for folder in ("out", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(BROKER_DIR / "control"),
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        # Seconds between looks at the folder: the embedded broker's whole delivery latency.
        "polling_interval": 0.25,
    }
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Two queues by cost (apps/uploads/costs.py): each job is sent to "light" or "heavy" when it is
# enqueued, and each queue has its own workers (scripts/worker.sh), so an upscale never holds up
# a dehaze. Every other task is light.
CELERY_TASK_DEFAULT_QUEUE = "light"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# ``celery beat`` (started by scripts/run.sh and docker-compose.yml) runs the upkeep.
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-jobs": {
        "task": "apps.uploads.tasks.sweep_stale_jobs",
        "schedule": ENHANCER_SWEEP_SECONDS,
    },
    "delete-expired-jobs": {
        "task": "apps.uploads.tasks.delete_expired_jobs",
        "schedule": 3600.0,
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.api.authentication.ApiClientTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "EXCEPTION_HANDLER": "apps.api.problems.handle",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Enhancer API",
    "DESCRIPTION": "Photo enhancement jobs and face registries.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's assets are served from this site: no CDN, so the docs page works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# Every line carries the request id it was written for; ENHANCER_LOG_FORMAT=json makes each
# line one JSON object (apps/common/log_format.py).
LOGGING = log_format.logging_config(env.str("LOG_LEVEL", default="INFO"))

# /metrics (apps/monitoring): Prometheus sends "Authorization: Bearer <token>", or scrapes from
# one of these networks (loopback by default); anyone else gets a 404.
ENHANCER_METRICS_TOKEN = env.str("ENHANCER_METRICS_TOKEN", default="")
ENHANCER_METRICS_ALLOWED_NETWORKS = [
    ipaddress.ip_network(network.strip(), strict=False)
    for network in env.list("ENHANCER_METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
    if network.strip()
]

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
