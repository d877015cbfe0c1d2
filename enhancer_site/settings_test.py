"""Settings for the test suite: its own var/ folder (database file, broker, media), fast hashing."""

import os
from pathlib import Path

_VAR = Path(__file__).resolve().parent.parent / "var" / "test"
os.environ.setdefault("ENHANCER_VAR_DIR", str(_VAR))
os.environ.setdefault("MEDIA_ROOT", str(_VAR / "media"))
# The models `make install` put in place (var/models), as a default install has them.
os.environ.setdefault("ENHANCER_MODEL_DIR", str(_VAR.parent / "models"))
os.environ.setdefault("DJANGO_DEBUG", "true")

from .settings import *  # noqa: E402,F403

# Thousands of users are made and signed in: a fast hash (never outside tests).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests run without collectstatic, whatever DJANGO_DEBUG says: no manifest to look names up in.
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405

# live_server answers from short-lived threads: persistent connections would outlive them and
# keep the test database busy when pytest tries to drop it.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
