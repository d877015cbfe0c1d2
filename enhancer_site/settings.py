"""All configuration comes from the environment; every variable has a working local default.

Production (``DJANGO_DEBUG=false``) refuses to start without ``DJANGO_SECRET_KEY`` and
``DJANGO_ALLOWED_HOSTS``, so a forgotten secret is a crash, not a silent default.
"""

from __future__ import annotations

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ENHANCER_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; real environment variables win

DEBUG = env.bool("DJANGO_DEBUG", default=True)
TESTING = env.bool("ENHANCER_TESTING", default=False)

if DEBUG:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="dev-only-insecure-key-change-me")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

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

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]

# Uploaded photos and results are private: no MEDIA_URL is served; every file goes through a
# view that checks ownership.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"base_url": "/private-media-is-not-served/"},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Requests carry whole photos; Django's own caps must not be lower than the image limit.
ENHANCER_MAX_UPLOAD_BYTES = env.int("ENHANCER_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
ENHANCER_MAX_PIXELS = env.int("ENHANCER_MAX_PIXELS", default=50_000_000)
ENHANCER_MIN_SIDE = env.int("ENHANCER_MIN_SIDE", default=48)
ENHANCER_MAX_FILES_PER_UPLOAD = env.int("ENHANCER_MAX_FILES_PER_UPLOAD", default=20)
DATA_UPLOAD_MAX_MEMORY_SIZE = ENHANCER_MAX_UPLOAD_BYTES * 2
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = ENHANCER_MAX_FILES_PER_UPLOAD

ENHANCER_MODEL_DIR = Path(env.str("ENHANCER_MODEL_DIR", default=str(VAR_DIR / "models")))
# The engine is Django-free and reads its configuration from the environment.
os.environ.setdefault("ENHANCER_MODEL_DIR", str(ENHANCER_MODEL_DIR))
os.environ.setdefault("ENHANCER_CACHE_DIR", str(VAR_DIR / "cache"))

# Which provider performs each operation: "local" (this machine) or "vk", "baidu", "meitu".
ENHANCER_PROVIDERS = {
    operation: env.str(f"ENHANCER_PROVIDER_{operation.upper()}", default="local")
    for operation in ("restore", "colorize", "improve", "upscale", "dehaze", "contrast")
}
ENHANCER_JOB_SOFT_TIME_LIMIT = env.int("ENHANCER_JOB_SOFT_TIME_LIMIT", default=15 * 60)
# The VK / Baidu / Meitu endpoints are synchronous: how long a request waits for its job.
ENHANCER_COMPAT_WAIT_SECONDS = env.float("ENHANCER_COMPAT_WAIT_SECONDS", default=120.0)
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

# Celery: by default an embedded filesystem broker that needs no server; results in the database.
BROKER_DIR = VAR_DIR / "broker"
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
    }
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "enhance"
# Heavy enhancement and quick face work wait in separate queues so one cannot starve the other.
CELERY_TASK_ROUTES = {"apps.face_registry.tasks.*": {"queue": "faces"}}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
