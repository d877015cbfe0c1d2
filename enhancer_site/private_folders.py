"""Folders for this user only (0700), made when first needed rather than on import."""

from __future__ import annotations

from pathlib import Path


def make(folder: Path | str) -> None:
    """``folder`` and each missing folder above it, 0700: ``mkdir(parents=True)`` would make the
    ones above with the default mode, and var/ holds the database, the broker and every photo."""
    folder = Path(folder)
    missing = []
    while not folder.exists():
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
