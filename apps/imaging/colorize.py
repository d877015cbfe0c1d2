"""Colorize: Zhang et al.'s "L → ab" networks (ECCV 2016 / SIGGRAPH 2017) as ONNX.

No colorizer ships in any package, so the operation needs ``colorizer.onnx`` in
``ENHANCER_MODEL_DIR`` (install it with ``python -m apps.imaging install-model`` or
``manage.py install_model``, which check its SHA-256). Without it ``colorize`` reports itself
unavailable; it never invents colours.

The model contract (that of the usual PyTorch → ONNX exports of richzhang/colorization):

* input 0: ``1 x 1 x 256 x 256`` float32 lightness L of CIE Lab, **0…100, not centred** — the
  exports keep the networks' own ``normalize_l`` ((L - 50) / 100) inside the graph. A model
  exported without it (OpenCV's Caffe conversion expects ``L - 50``) is described by a sidecar
  ``colorizer.json`` next to it: ``{"l_offset": -50}``; ``"ab_scale"`` multiplies the output
  (1 by default, as the exports already return ab in Lab units, about -110…110), ``"size"``
  overrides the input side when the graph's is dynamic.
* further inputs (SIGGRAPH17's user hints ``input_B`` 1x2xHxW and ``mask_B`` 1x1xHxW) get zeros:
  automatic colorization, no hints.
* output 0: ``1 x 2 x h x w`` ab (any h, w: ECCV16 exports upsample to 256, others stop at 64).

The ab plane is resized (bilinear) to the full image and joined with the full-resolution L of
the original, so detail and sharpness come from the photo, only colour from the network.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import cv2
import numpy as np

from . import model_files
from .errors import EnhancerError
from .operations import Operation, Result, register
from .picture import Picture
from .progress import Progress, ignore

MODEL_FILE = "colorizer.onnx"
SIDECAR_FILE = "colorizer.json"
DEFAULT_SIZE = 256
UNAVAILABLE = "no colorizer model installed (see README: manage.py install_model)"

_lock = threading.Lock()
_cache: dict[tuple, tuple] = {}


def model_path() -> Path | None:
    """Only the model directory counts: no package ships a colorizer."""
    directory = os.environ.get(model_files.MODEL_DIR_ENV, "").strip()
    if not directory:
        return None
    path = Path(directory).expanduser() / MODEL_FILE
    return path if path.is_file() else None


def unavailable_reason() -> str | None:
    return None if model_path() is not None else UNAVAILABLE


def _session(path: Path):
    """(session, options) for the model file, loaded once per file version per process."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    with _lock:
        cached = _cache.get(key)
        if cached is None:
            import onnxruntime as ort  # noqa: PLC0415 - heavy; only colorize needs it here

            options = ort.SessionOptions()
            options.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
            try:
                session = ort.InferenceSession(
                    str(path), sess_options=options, providers=["CPUExecutionProvider"]
                )
            except Exception as error:  # onnxruntime raises its own exception types
                raise EnhancerError(
                    EnhancerError.UNAVAILABLE, f"the colorizer model cannot be loaded: {error}"
                ) from None
            settings = {"l_offset": 0.0, "ab_scale": 1.0, "size": None}
            sidecar = path.with_name(SIDECAR_FILE)
            if sidecar.is_file():
                settings.update(json.loads(sidecar.read_text()))
            _cache.clear()  # an older version of the file is no longer needed
            cached = _cache[key] = (session, settings)
    return cached


def _input_size(session, settings: dict) -> int:
    if settings.get("size"):
        return int(settings["size"])
    shape = session.get_inputs()[0].shape
    if len(shape) == 4 and isinstance(shape[2], int) and shape[2] > 0:
        return int(shape[2])
    return DEFAULT_SIZE


def _feeds(session, lightness: np.ndarray) -> dict[str, np.ndarray]:
    inputs = session.get_inputs()
    feeds = {inputs[0].name: lightness}
    size = lightness.shape[2:]
    for extra in inputs[1:]:
        channels = (
            extra.shape[1] if len(extra.shape) == 4 and isinstance(extra.shape[1], int) else 1
        )
        feeds[extra.name] = np.zeros((1, channels, *size), np.float32)
    return feeds


def colorize(picture: Picture, progress: Progress = ignore) -> Picture:
    path = model_path()
    if path is None:
        raise EnhancerError(EnhancerError.UNAVAILABLE, f"colorize unavailable: {UNAVAILABLE}")
    session, settings = _session(path)
    progress(0.1)
    size = _input_size(session, settings)
    lab = cv2.cvtColor(np.ascontiguousarray(picture.rgb, np.float32), cv2.COLOR_RGB2LAB)
    small = cv2.resize(picture.rgb, (size, size), interpolation=cv2.INTER_AREA)
    small_l = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)[:, :, 0] + float(settings["l_offset"])
    progress(0.2)
    ab = session.run(None, _feeds(session, small_l[None, None].astype(np.float32)))[0]
    progress(0.8)
    ab = np.asarray(ab, np.float32)
    if ab.ndim != 4 or ab.shape[:2] != (1, 2):
        raise EnhancerError(
            EnhancerError.INTERNAL, f"the colorizer returned {ab.shape}, expected 1 x 2 x H x W"
        )
    ab = ab[0].transpose(1, 2, 0) * float(settings["ab_scale"])
    ab = cv2.resize(ab, (picture.width, picture.height), interpolation=cv2.INTER_LINEAR)
    lab[:, :, 1:] = np.clip(ab, -127.0, 127.0)
    return picture.with_rgb(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB))


def _run(picture: Picture, _params: dict, progress: Progress) -> Result:
    return Result({"colored": colorize(picture, progress)})


register(
    Operation(
        "colorize",
        "Colorize",
        _run,
        unavailable_reason=unavailable_reason,
        outputs=("colored",),
    )
)


# --------------------------------------------------------------------------- installing models


def install_model(
    source: str | os.PathLike,
    expected_sha256: str,
    model_dir: str | os.PathLike,
    filename: str | None = None,
) -> Path:
    """Copy a model file into ``model_dir`` once its SHA-256 is verified; returns the new path.

    ``source`` is a local path or a ``file://`` / ``https://`` URL (an explicit admin action at
    install time: nothing is ever fetched while serving). The file lands under ``filename``
    (default: the source's own name, e.g. ``colorizer.onnx``) atomically, so a running worker
    never sees half a file; on a checksum mismatch nothing is installed.
    """
    expected = expected_sha256.strip().lower()
    if len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected):
        raise EnhancerError(EnhancerError.BAD_PARAMS, "expected_sha256 must be 64 hex digits.")
    text = os.fspath(source)
    parsed = urllib.parse.urlparse(text)
    target_dir = Path(model_dir).expanduser()
    target_dir.mkdir(parents=True, exist_ok=True)
    if parsed.scheme in ("http", "https"):
        name = filename or Path(parsed.path).name
        opener = urllib.request.urlopen(text, timeout=60)  # noqa: S310 - scheme checked above
    else:
        local = Path(urllib.parse.unquote(parsed.path)) if parsed.scheme == "file" else Path(text)
        if not local.is_file():
            raise EnhancerError(EnhancerError.BAD_PARAMS, f"{local} is not a file.")
        name = filename or local.name
        opener = open(local, "rb")  # noqa: SIM115 - closed by the with below
    if not name or "/" in name or name in (".", ".."):
        raise EnhancerError(EnhancerError.BAD_PARAMS, f"bad model file name {name!r}.")
    digest = hashlib.sha256()
    handle, temporary = tempfile.mkstemp(prefix=".installing-", dir=target_dir)
    try:
        with opener as stream, os.fdopen(handle, "wb") as out:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
                out.write(block)
        actual = digest.hexdigest()
        if actual != expected:
            raise EnhancerError(
                EnhancerError.BAD_PARAMS,
                f"SHA-256 mismatch for {text}: expected {expected}, got {actual}; not installed.",
            )
        target = target_dir / name
        os.replace(temporary, target)
        os.chmod(target, 0o644)
        return target
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


__all__ = [
    "MODEL_FILE",
    "colorize",
    "install_model",
    "model_path",
    "unavailable_reason",
]
