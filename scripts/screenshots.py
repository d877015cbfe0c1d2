"""Refresh the README screenshots (docs/screenshots/) from the browser tests.

    .venv/bin/python scripts/screenshots.py

The tests in tests/browser drive Debian's Chromium through the real flows (landing page, upload,
history, before/after, face recognition, Russian, a phone) against a live server and a real
worker, and save a picture at each step when ENHANCER_SCREENSHOTS names a folder. Needs
/usr/bin/chromium and the shared fixture photos.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    env = {**os.environ, "ENHANCER_SCREENSHOTS": str(ROOT / "docs" / "screenshots")}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/browser"]
    sys.exit(subprocess.call(command, cwd=ROOT, env=env))  # noqa: S603 - our own test command
