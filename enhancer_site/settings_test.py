"""Settings for the test suite: its own var/ folder (database file, broker, media), fast hashing."""

import os
from pathlib import Path

_VAR = Path(__file__).resolve().parent.parent / "var" / "test"
os.environ.setdefault("ENHANCER_VAR_DIR", str(_VAR))
os.environ.setdefault("MEDIA_ROOT", str(_VAR / "media"))
# The models `make install` put in place (var/models), as a default install has them.
os.environ.setdefault("ENHANCER_MODEL_DIR", str(_VAR.parent / "models"))
os.environ["ENHANCER_TESTING"] = "1"
os.environ.setdefault("DJANGO_DEBUG", "true")

from .settings import *  # noqa: E402,F403

# live_server answers from short-lived threads: persistent connections would outlive them and
# keep the test database busy when pytest tries to drop it.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
