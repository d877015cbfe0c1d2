"""Colorize: Zhang et al.'s "L → ab" networks (ECCV 2016 / SIGGRAPH 2017).

No colorizer ships in any package, so the operation needs one installed in
``ENHANCER_MODEL_DIR`` with ``python -m apps.imaging install-model`` or ``manage.py install_model``
(which check each file's SHA-256), in any of the forms the authors publish (README, "Colorize"):

* ``colorizer.onnx``: an ONNX export — or what ``install_model`` writes when given the
  ``colorizers`` package's PyTorch state dicts (ECCV16 / SIGGRAPH17 ``.pth``, converted once
  with numpy by :mod:`.colorize_models`; PyTorch is never needed);
* OpenCV's Caffe release: ``colorization_deploy_v2.prototxt``,
  ``colorization_release_v2.caffemodel`` and ``pts_in_hull.npy``, run with ``cv2.dnn``.

Without one ``colorize`` reports itself unavailable; it never invents colours.

The ONNX contract (that of the usual PyTorch → ONNX exports of richzhang/colorization):

* input 0: ``1 x 1 x 256 x 256`` float32 lightness L of CIE Lab, **0…100, not centred** — the
  exports keep the networks' own ``normalize_l`` ((L - 50) / 100) inside the graph. A model
  exported without it is described by a sidecar ``colorizer.json`` next to it:
  ``{"l_offset": -50}``; ``"ab_scale"`` multiplies the output (1 by default, as the exports
  already return ab in Lab units, about -110…110), ``"size"`` overrides the input side when
  the graph's is dynamic.
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
import re
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

import cv2
import numpy as np

from . import colorize_models, model_files
from .config import config
from .errors import EnhancerError, gettext_noop
from .model_cache import ModelCache
from .operation import Operation, Rate, Result, heavy_work
from .picture import Picture
from .progress import Progress, ignore

MODEL_FILE = "colorizer.onnx"
SIDECAR_FILE = "colorizer.json"
DEFAULT_SIZE = 256
UNAVAILABLE = "no colorizer model installed (see README: manage.py install_model)"

# One colorizer per process, keyed by its files' version: reinstalling replaces it.
_models: ModelCache[object] = ModelCache(keep_latest=True)


def _model_dir() -> Path | None:
    """Only the model directory counts: no package ships a colorizer."""
    return config().model_dir


def model_path() -> Path | None:
    directory = _model_dir()
    path = directory / MODEL_FILE if directory else None
    return path if path is not None and path.is_file() else None


def caffe_paths() -> tuple[Path, Path, Path] | None:
    """OpenCV's Caffe release, when all three of its files are installed."""
    directory = _model_dir()
    if directory is None:
        return None
    paths = tuple(directory / name for name in colorize_models.CAFFE_FILES)
    return paths if all(path.is_file() for path in paths) else None  # type: ignore[return-value]


def unavailable_reason() -> str | None:
    if model_path() is not None or caffe_paths() is not None:
        return None
    directory = _model_dir()
    if directory is not None:
        present = [n for n in colorize_models.CAFFE_FILES if (directory / n).is_file()]
        if present:
            missing = [n for n in colorize_models.CAFFE_FILES if n not in present]
            return f"the Caffe colorizer is incomplete: {', '.join(missing)} not installed"
    return UNAVAILABLE


class _OnnxColorizer:
    def __init__(self, path: Path) -> None:
        import onnxruntime as ort  # noqa: PLC0415 - heavy; only colorize needs it here

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
        try:
            self.session = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as error:  # onnxruntime raises its own exception types
            raise EnhancerError(
                EnhancerError.UNAVAILABLE,
                gettext_noop("the colorizer model cannot be loaded: %(error)s"),
                {"error": str(error)},
            ) from None
        settings = {"l_offset": 0.0, "ab_scale": 1.0, "size": None}
        sidecar = path.with_name(SIDECAR_FILE)
        if sidecar.is_file():
            settings.update(json.loads(sidecar.read_text()))
        self.l_offset = float(settings["l_offset"])
        self.ab_scale = float(settings["ab_scale"])
        self.size = _input_size(self.session, settings)

    def run(self, lightness: np.ndarray) -> np.ndarray:
        return self.session.run(None, _feeds(self.session, lightness))[0]


def _loaded():
    """The installed colorizer, loaded once per file version per process (ONNX first)."""
    path = model_path()
    if path is not None:
        files: tuple[Path, ...] = (path,)
    else:
        files = caffe_paths() or ()
    if not files:
        raise EnhancerError(
            EnhancerError.UNAVAILABLE, gettext_noop("%(operation)s unavailable: %(reason)s"),
            {"operation": "colorize", "reason": unavailable_reason()},
        )
    key = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    if path is not None:
        return _models.get(key, lambda: _OnnxColorizer(files[0]))
    return _models.get(key, lambda: colorize_models.CaffeColorizer(*files))


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
    model = _loaded()
    progress(0.1)
    size = model.size
    lab = cv2.cvtColor(np.ascontiguousarray(picture.rgb, np.float32), cv2.COLOR_RGB2LAB)
    small = cv2.resize(picture.rgb, (size, size), interpolation=cv2.INTER_AREA)
    small_l = cv2.cvtColor(small, cv2.COLOR_RGB2LAB)[:, :, 0] + model.l_offset
    progress(0.2)
    ab = model.run(small_l[None, None].astype(np.float32))
    progress(0.8)
    ab = np.asarray(ab, np.float32)
    if ab.ndim != 4 or ab.shape[:2] != (1, 2):
        raise EnhancerError(
            EnhancerError.INTERNAL,
            gettext_noop("the colorizer returned %(shape)s, expected 1 x 2 x H x W"),
            {"shape": str(ab.shape)},
        )
    ab = ab[0].transpose(1, 2, 0) * model.ab_scale
    ab = cv2.resize(ab, (picture.width, picture.height), interpolation=cv2.INTER_LINEAR)
    lab[:, :, 1:] = np.clip(ab, -127.0, 127.0)
    return picture.with_rgb(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB))


def run(picture: Picture, _params: dict, progress: Progress) -> Result:
    return Result({"colored": colorize(picture, progress)})


OPERATION = Operation(
    "colorize", "Colorize", run, unavailable_reason=unavailable_reason, outputs=("colored",),
    work=heavy_work, heavy_in_cloud=True, rates=(Rate(2.0, 1.0),),
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
    never sees half a file; on a checksum mismatch nothing is installed. A ``.pth`` state dict
    (ECCV16 / SIGGRAPH17) is also converted to ``colorizer.onnx``, and that path is returned;
    the Caffe release's three files are installed one by one under their own names.
    """
    expected = expected_sha256.strip().lower()
    if len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected):
        raise EnhancerError(
            EnhancerError.BAD_PARAMS, gettext_noop("expected_sha256 must be 64 hex digits.")
        )
    # PyTorch hub names carry the first 8 hex digits of the file's SHA-256
    # (colorization_release_v2-9b330a0b.pth): a digest that disagrees is a typo caught early.
    hub = re.search(r"-([0-9a-f]{8,})\.pth$", os.fspath(source))
    if hub and not expected.startswith(hub.group(1)):
        raise EnhancerError(
            EnhancerError.BAD_PARAMS,
            gettext_noop(
                "%(file)s names a SHA-256 starting %(named)s, not %(given)s: "
                "check the digest you were given."
            ),
            {"file": Path(os.fspath(source)).name, "named": hub.group(1), "given": expected[:8]},
        )
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
            raise EnhancerError(
                EnhancerError.BAD_PARAMS, gettext_noop("%(file)s is not a file."),
                {"file": str(local)},
            )
        name = filename or local.name
        opener = open(local, "rb")  # noqa: SIM115 - closed by the with below
    if not name or "/" in name or name in (".", ".."):
        raise EnhancerError(
            EnhancerError.BAD_PARAMS, gettext_noop("bad model file name %(file)s."),
            {"file": repr(name)},
        )
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
                gettext_noop(
                    "SHA-256 mismatch for %(source)s: expected %(expected)s, got %(actual)s; "
                    "not installed."
                ),
                {"source": text, "expected": expected, "actual": actual},
            )
        target = target_dir / name
        if name.endswith(".pth"):
            # Converted now, once, with numpy: serving never needs PyTorch. The checked file is
            # what gets converted; a file that is not a colorizer state dict installs nothing.
            state = colorize_models.read_state_dict(Path(temporary))
            model = colorize_models.state_dict_to_onnx(state)
            architecture = colorize_models.architecture(state)
            model_files.write_atomically(target_dir / MODEL_FILE, model.SerializeToString())
            sidecar = {"l_offset": 0, "converted_from": name, "architecture": architecture}
            model_files.write_atomically(target_dir / SIDECAR_FILE, json.dumps(sidecar).encode())
        os.replace(temporary, target)
        os.chmod(target, 0o644)
        return target_dir / MODEL_FILE if name.endswith(".pth") else target
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
