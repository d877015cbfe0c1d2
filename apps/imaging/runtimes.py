"""Which runtime and which arithmetic the networks run on this CPU, and the probe that decides.

Three runtimes: ``openvino`` (default where installed), ``onnxruntime`` (float32; the fallback
when OpenVINO is missing or cannot compile a graph) and ``ncnn`` (the last resort, ~3.5x the
memory per pixel). On OpenVINO the float arithmetic is bfloat16 where the CPU computes bf16
natively (``avx512_bf16`` or AMX) and a one-off measurement finds it faster (:func:`bf16_pays`),
float32 elsewhere. Measured on a 2-core Zen 5 EPYC (docs/benchmarks.md): bf16 runs Real-ESRGAN
x4plus about 2.5x faster than float32 at 50+ dB PSNR against it; on an Intel Xeon without AMX
it is slower. The probe (:func:`probe`) times a block of convolutions once per CPU, OpenVINO
version and thread count and keeps the result on disk; whether a network runs int8 is decided
per network (:func:`.networks.int8_refusal`) from the same probe.
``ENHANCER_UPSCALE_RUNTIME`` and ``ENHANCER_UPSCALE_PRECISION`` override the choice and
``ENHANCER_THREADS`` sets the thread count (:mod:`.config`).
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

import numpy as np

from . import model_files
from .config import MAX_ISA_ENV, PRECISION_ENV, config

log = logging.getLogger(__name__)

BF16_FLAGS = ("avx512_bf16", "amx_bf16")
INT8_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")


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


# oneDNN's ISA levels, lowest first (ONEDNN_MAX_CPU_ISA), and the flags each level first lets
# its kernels use; a cap below a flag's level hides that flag here.
ISA_LEVELS = (
    ("SSE41", ()), ("AVX", ()), ("AVX2", ()), ("AVX2_VNNI", ("avx_vnni",)), ("AVX2_VNNI_2", ()),
    ("AVX512_CORE", ("avx512f",)), ("AVX512_CORE_VNNI", ("avx512_vnni",)),
    ("AVX512_CORE_BF16", ("avx512_bf16",)), ("AVX10_1_512", ()), ("AVX512_CORE_FP16", ()),
    ("AVX10_1_512_AMX", ("amx_tile", "amx_bf16", "amx_int8")), ("AVX512_CORE_AMX", ()),
    ("AVX10_1_512_AMX_FP16", ()), ("ALL", ()),
)


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none), less those
    above ``ONEDNN_MAX_CPU_ISA`` where it caps the kernels."""
    flags = frozenset((_cpuinfo("flags") or "").split())
    cap = config().max_isa
    names = [name for name, _ in ISA_LEVELS]
    if not cap or cap == "ALL":
        return flags
    if cap not in names:
        log.warning("%s=%s is not an ISA level oneDNN knows; ignored", MAX_ISA_ENV, cap)
        return flags
    above = {flag for name, new in ISA_LEVELS[names.index(cap) + 1:] for flag in new}
    return frozenset(flag for flag in flags if flag not in above and not (
        flag.startswith("avx512") and "avx512f" in above))


@functools.cache
def cpu_model() -> str:
    model = _cpuinfo("model name")
    if model is not None:
        return model.strip()
    import platform

    return platform.processor() or "unknown"


CGROUP_MEMORY_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


@functools.cache
def machine_memory() -> int | None:
    """Bytes of memory this process may use: the machine's, or its cgroup's limit where lower
    (a container sees the host's memory in /proc); None where unknown."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
    for limit in CGROUP_MEMORY_LIMITS:
        try:
            text = Path(limit).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total


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


def probe_key() -> str:
    import openvino as ov

    flags = ",".join(sorted(
        flag for flag in cpu_flags() if "bf16" in flag or "amx" in flag or "vnni" in flag
    ))
    cap = f" max isa {config().max_isa}" if config().max_isa else ""
    return f"{cpu_model()} [{flags}] openvino {ov.get_version()} threads {threads()}{cap}"


def int8_hardware() -> bool:
    """True where OpenVINO runs int8 kernels: AVX2 and up. VNNI and AMX int8 make them
    faster; whether int8 pays is measured (:func:`probe`, the trunk's own race)."""
    return "avx2" in cpu_flags() and "INT8" in _openvino_capabilities()


def int8_dot_products() -> bool:
    """True where the CPU has int8 dot-product instructions (VNNI, AMX int8). Without them
    int8 sums pairs in 16 bits, which may saturate: a graph is then used only where its
    accuracy gate ran on this CPU's kernels."""
    return any(flag in cpu_flags() for flag in INT8_FLAGS)


@functools.cache
def probe() -> dict:
    """Milliseconds of a block of 3x3 convolutions like the networks' own in float32, in bf16
    where it is native and in int8 where OpenVINO has int8 kernels (``bf16_ms`` / ``int8_ms``
    absent where not), measured once per CPU, OpenVINO version and thread count and kept in
    ``$ENHANCER_CACHE_DIR/openvino/precision.json`` for every later process. Empty where the
    probe cannot run (float32 is then used)."""
    import json

    path = cache_dir() / "openvino" / "precision.json"
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    key = probe_key()
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


def pays(faster: float | None, than: float | None) -> bool:
    # A clear win only (10 %): a tie keeps the more precise arithmetic.
    return faster is not None and than is not None and faster < 0.9 * than


def bf16_pays() -> bool:
    """Whether bf16 is clearly faster than float32 on this CPU. Native bf16 is not always: a
    2-core Zen 5 EPYC runs Real-ESRGAN about 2.5x faster in bf16, an Intel Xeon with
    ``avx512_bf16`` but no AMX 1.4x slower, a Xeon with AMX 5x faster (docs/benchmarks.md)."""
    timings = probe()
    return pays(timings.get("bf16_ms"), timings.get("f32_ms"))


def known_speedup() -> float:
    """How many times faster than float32 the float arithmetic chosen here ran the probe, read
    from the stored probe only (1.0 where none is stored: an estimate never measures). It
    understates the network's own gain (x4plus: probe 2.1x, network 5x with AMX), so estimates
    scaled by it stay on the safe side."""
    import json

    try:
        timings = json.loads((cache_dir() / "openvino" / "precision.json").read_text())[
            probe_key()
        ]
    except (OSError, ValueError, KeyError, ImportError):
        return 1.0
    if runtime_name() != "openvino" or config().precision == "f32" or not native_bf16():
        return 1.0
    bf16, f32 = timings.get("bf16_ms"), timings.get("f32_ms")
    if config().precision != "bf16" and not pays(bf16, f32):
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



def precision_for(runtime: str) -> str:
    """The floating-point arithmetic a runtime uses here: bf16 only on OpenVINO with native
    bf16, and by default only where it was measured faster than float32 (:func:`bf16_pays`)."""
    return float_choice(runtime)[0]


def float_choice(runtime: str) -> tuple[str, str]:
    """(bf16 or f32, why)."""
    if runtime != "openvino":
        return "f32", f"{runtime} runs float32 only"
    wanted = config().precision
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
