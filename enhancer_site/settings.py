"""All configuration comes from the environment; every variable has a working local default.

Three modes, by ``DJANGO_DEBUG``:

* unset — a local run (``make run``, ``manage.py`` commands on a checkout): Django's debug pages
  off (visitors get the site's own 404/500 pages), plain http on 127.0.0.1/localhost, a secret
  key made once and kept in var/secret_key, static files served by WhiteNoise;
* ``true`` — the same with Django's debug pages (``make run DEBUG=1``);
* ``false`` — production: refuses to start without ``DJANGO_SECRET_KEY`` and
  ``DJANGO_ALLOWED_HOSTS`` (a forgotten secret is a crash, not a silent default), HTTPS on.

Importing these settings creates no folder or file: each is made where it is first needed (the
secret key when first read, the SQLite file on the first connection — enhancer_site/sqlite —, the
embedded broker's folders when Celery is first configured — enhancer_site/celery.py). The test
suite's own choices are in settings_test.py.
"""

from __future__ import annotations

import ipaddress
import os
import re
import warnings
from pathlib import Path

import environ
from django.utils.functional import lazy

from apps.common import log_format

# The engine's one list of operation names (a light import: no numpy, no Django).
from apps.imaging.operation import NAMES as OPERATION_NAMES

from . import private_folders, storage_url

BASE_DIR = Path(__file__).resolve().parent.parent
# 0700 wherever it is made: the database, the broker's messages and every photo live here, for
# this user only.
VAR_DIR = Path(os.environ.get("ENHANCER_VAR_DIR", BASE_DIR / "var"))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; real environment variables win

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Production is asked for by name (DJANGO_DEBUG=false, as the image and compose set it).
PRODUCTION = bool(os.environ.get("DJANGO_DEBUG", "").strip()) and not DEBUG


def _local_secret_key() -> str:
    """A key for this checkout, made on first use and kept (0600), so sessions survive restarts
    without a well-known default key. Written whole then linked into place: the web server and
    the workers start together, and none may read a half-written key."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        private_folders.make(VAR_DIR)
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
    # Read (and made, the first time) when something first signs with it, not on import.
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or lazy(_local_secret_key, str)()
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
    # Then, before anything reads or spools it: an oversized body is refused.
    "enhancer_site.request_limits.RequestBodyLimitMiddleware",
    # Each request decodes at most ENHANCER_DECODE_BUDGET_MB of pixels, whatever its files weigh.
    "enhancer_site.request_limits.DecodeBudgetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's documented place: after sessions, before common. The language comes from the
    # switcher's cookie, else Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before the CSRF check reads a body (its process_view): anonymous photo posts go to login.
    "enhancer_site.request_limits.AnonymousPhotoMiddleware",
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
    # Django's backend, creating the file 0600 (in a 0700 folder) on the first connection.
    DATABASES["default"]["ENGINE"] = "enhancer_site.sqlite"
    # A file, not :memory:, so a real Celery worker process can share the test database; WAL and
    # a busy timeout let the web process and the worker write without "database is locked".
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
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

LANGUAGE_CODE = "en"
# The languages of the clouds we replace (VK, Baidu, Meitu) besides English; chosen from the
# browser's Accept-Language unless the visitor picked one with the switcher.
LANGUAGES = [("en", "English"), ("ru", "Русский"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Made by collectstatic (the image's build); a local run serves from the apps' folders instead.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
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
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# A local run serves static files through WhiteNoise with or without debug (runserver serves
# none with DEBUG off), straight from the apps' folders, so it works before any collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION
if WHITENOISE_USE_FINDERS:
    # STATIC_ROOT is then only collectstatic's output, absent until someone runs it: WhiteNoise's
    # warning about the missing folder says nothing wrong (in production it stays a warning).
    warnings.filterwarnings("ignore", message=f"No directory at: {re.escape(str(STATIC_ROOT))}")
# Requests carry whole photos; Django's own caps must not be lower than the image limit.
ENHANCER_MAX_UPLOAD_BYTES = env.int("ENHANCER_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
ENHANCER_MAX_PIXELS = env.int("ENHANCER_MAX_PIXELS", default=50_000_000)
ENHANCER_MIN_SIDE = env.int("ENHANCER_MIN_SIDE", default=48)
ENHANCER_MAX_FILES_PER_UPLOAD = env.int("ENHANCER_MAX_FILES_PER_UPLOAD", default=20)
# Pixels one request may decode in all, in MB (width × height × channels × bytes per sample):
# twenty 24 MP photos fit; four 7000x7000 16-bit RGBA PNGs (392 MB each, 381 KB as files) do not.
ENHANCER_DECODE_BUDGET_MB = env.int("ENHANCER_DECODE_BUDGET_MB", default=1536)
# A job is light only while its photo costs no more than an 8-bit RGB photo of this many
# megapixels: a 16-bit or transparent photo counts by its real cost (apps/uploads/costs.py).
ENHANCER_LIGHT_MAX_MEGAPIXELS = env.float(
    "ENHANCER_LIGHT_MAX_MEGAPIXELS", default=ENHANCER_MAX_PIXELS / 1e6
)
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
# Faces one recognize call analyses (VK persons/recognize, the native API, the web page): a
# photo with more is refused in each surface's format before its faces are analysed, as each
# face costs landmarks, an embedding and attributes inside the web request.
ENHANCER_MAX_FACES_PER_RECOGNIZE = env.int("ENHANCER_MAX_FACES_PER_RECOGNIZE", default=20)
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
    # The folders are made when Celery is first configured (enhancer_site/celery.py).
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
# a dehaze. Webhook deliveries have a queue of their own; every other task is light.
CELERY_TASK_DEFAULT_QUEUE = "light"
# Webhook deliveries wait on partners' servers: their own queue and worker (apps/api/webhooks.py),
# retries included, so no photo ever waits behind one.
CELERY_TASK_ROUTES = {"apps.api.tasks.deliver_webhook": {"queue": "webhooks"}}
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
# runserver (make run) logs whole request lines: credentials in query strings are cut.
LOGGING["filters"]["query_free"] = {"()": "enhancer_site.log_filters.QueryFreeFilter"}
LOGGING["formatters"]["django.server"] = {
    "()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{",
}
LOGGING["handlers"]["django.server"] = {
    "class": "logging.StreamHandler",
    "formatter": "default" if log_format.json_wanted() else "django.server",
    "filters": ["request_id", "query_free"],
}
LOGGING["loggers"] = {
    "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
}

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
