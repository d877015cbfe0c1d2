"""Benchmark the upscale engine; writes its section to docs/benchmarks/upscale.md.

    python bench/bench_upscale.py [--quick]

Everything is measured side by side in one run, so ratios hold on a busy machine (the load
average is printed with the results):

1. The CLI end to end (``python -m apps.imaging upscale``, a fresh process: start-up, model
   load from the warm caches, tiling, PNG encoding) on a 384x384 photo at x4, against the
   reference: Real-ESRGAN x4plus in PyTorch fp32, untiled, the same weights (an RRDBNet written
   below, loaded from the ncnn files) — its forward pass alone. Ratio, PSNR of the CLI's output
   against the reference's (whole, and away from a 32 px border), peak RSS of the CLI process.
2. One tile per runtime and precision (x4plus and SPAN), with PSNR against PyTorch fp32.
3. 1 MP at x2 and x4, ``best`` and ``fast``, through the CLI (JPEG in and out).
4. Quality of the x2 routes and of the fast tier against ground truth: high-resolution crops of
   the fixtures, area-downscaled to make the inputs.
PyTorch is needed only here (``pip install -e .[bench]``); without it part 1 has no reference.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.imaging import codec, ncnn_convert, superres, upscale  # noqa: E402
from apps.imaging.picture import Picture  # noqa: E402

FIXTURES = Path(os.environ.get("ENHANCER_FIXTURES", ROOT.parent / "shared" / "fixtures"))
BORDER = 32  # output pixels left out of the "away from the border" PSNR


def cpu_line() -> str:
    keep = sorted(
        f
        for f in superres.cpu_flags()
        if f.startswith(("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx", "fma"))
    )
    return f"{superres.cpu_model()}, {superres.threads()} threads, flags: {' '.join(keep)}"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(1 / mse))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    a = cv2.cvtColor(np.clip(a, 0, 1).astype(np.float32), cv2.COLOR_RGB2GRAY)
    b = cv2.cvtColor(np.clip(b, 0, 1).astype(np.float32), cv2.COLOR_RGB2GRAY)
    c1, c2 = 0.01**2, 0.03**2

    def blur(x):
        return cv2.GaussianBlur(x, (11, 11), 1.5)

    ma, mb = blur(a), blur(b)
    va, vb, cab = blur(a * a) - ma * ma, blur(b * b) - mb * mb, blur(a * b) - ma * mb
    return float(
        np.mean(((2 * ma * mb + c1) * (2 * cab + c2)) / ((ma**2 + mb**2 + c1) * (va + vb + c2)))
    )


def detail(x: np.ndarray) -> float:
    grey = cv2.cvtColor(np.clip(x, 0, 1).astype(np.float32), cv2.COLOR_RGB2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def load_rgb(relative: str) -> np.ndarray:
    return codec.decode((FIXTURES / relative).read_bytes()).rgb


def area(rgb: np.ndarray, k: int) -> np.ndarray:
    return cv2.resize(rgb, (rgb.shape[1] // k, rgb.shape[0] // k), interpolation=cv2.INTER_AREA)


def best_of(fn, repeats: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def build_torch_rrdbnet(layers):
    """RRDBNet (Wang et al. 2021, num_block=23, num_feat=64, num_grow_ch=32), weights taken in
    order from the parsed ncnn layers."""
    import torch
    from torch import nn
    from torch.nn import functional as F  # noqa: N812

    class RDB(nn.Module):
        def __init__(self):
            super().__init__()
            self.convs = nn.ModuleList(
                nn.Conv2d(64 + i * 32, 32 if i < 4 else 64, 3, 1, 1) for i in range(5)
            )

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
            up = F.interpolate(feat, scale_factor=2, mode="nearest")
            feat = F.leaky_relu(self.conv_up1(up), 0.2)
            up = F.interpolate(feat, scale_factor=2, mode="nearest")
            feat = F.leaky_relu(self.conv_up2(up), 0.2)
            return self.conv_last(F.leaky_relu(self.conv_hr(feat), 0.2))

    model = RRDBNet().eval()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    ncnn_convs = [layer for layer in layers if layer.type == "Convolution"]
    if len(convs) != len(ncnn_convs):
        raise RuntimeError(f"RRDBNet has {len(convs)} convolutions, the file {len(ncnn_convs)}")
    with torch.no_grad():
        for conv, layer in zip(convs, ncnn_convs, strict=True):
            conv.weight.copy_(torch.from_numpy(layer.weights["weight"]))
            conv.bias.copy_(torch.from_numpy(layer.weights["bias"]))
    return model


# The CLI's own entry point in a fresh interpreter, which then reports its VmHWM: Linux carries
# the parent's ru_maxrss into an exec'd child, and this benchmark's process is large.
CLI = """
import re, sys
from apps.imaging.__main__ import main
code = main(sys.argv[1:])
status = open("/proc/self/status").read()
print("VMHWM", int(re.search(r"VmHWM:\\s+(\\d+)", status).group(1)) * 1024, file=sys.stderr)
sys.exit(code)
"""


def cli(*args: str) -> tuple[float, int]:
    """(seconds, peak RSS bytes) of one ``python -m apps.imaging`` run."""
    start = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", CLI, *args], cwd=ROOT, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    peak = int(re.search(r"VMHWM (\d+)", done.stderr).group(1))
    return seconds, peak


def headline(folder: Path, repeats: int, lines: list[str]) -> None:
    rgb = load_rgb("faces/obama.jpg")[250:634, 250:634]
    source, target = folder / "in384.png", folder / "out384.png"
    source.write_bytes(codec.encode(Picture(np.ascontiguousarray(rgb)), "PNG"))
    args = ["upscale", str(source), str(target), "--factor", "4"]
    cli(*args)  # fills the ONNX and OpenVINO caches, as any worker's first job does
    reference_seconds, reference = [], None
    cli_runs = []
    try:
        import torch

        torch.set_num_threads(superres.threads())
        spec = superres.MODELS["photo-x4"]
        model = build_torch_rrdbnet(ncnn_convert.load(*superres.model_paths(spec)))
        x = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))[None])
    except ImportError:
        torch = None
    for _ in range(repeats):  # alternate, so both see the same load
        if torch is not None:
            start = time.perf_counter()
            with torch.inference_mode():
                reference = model(x)[0].numpy().transpose(1, 2, 0)
            reference_seconds.append(time.perf_counter() - start)
        cli_runs.append(cli(*args))
    fast_runs = [cli(*args, "--quality", "fast") for _ in range(repeats)]
    ours = codec.decode(target.read_bytes()).rgb
    seconds, peak = min(cli_runs)
    fast_seconds, fast_peak = min(fast_runs)
    network = superres.load("photo-x4")
    lines += [
        "### The CLI end to end against the PyTorch reference",
        "",
        f"`python -m apps.imaging upscale in.png out.png --factor 4` on a 384x384 photo (a crop "
        f"of faces/obama.jpg) -> 1536x1536 PNG, best of {repeats}, caches warm; the reference "
        "is the forward pass alone of the same network in PyTorch fp32, untiled, measured "
        "alternately with the CLI.",
        "",
        "| run | seconds | vs reference | peak RSS |",
        "| --- | --- | --- | --- |",
    ]
    if reference is not None:
        ref_s = min(reference_seconds)
        lines.append(f"| PyTorch {torch.__version__} fp32, untiled (forward only) | {ref_s:.1f} | 1.00x | — |")
        lines.append(
            f"| CLI `best` ({network.runtime} {network.precision}) | {seconds:.1f} | "
            f"**{ref_s / seconds:.2f}x** | {peak / 2**30:.2f} GiB |"
        )
        lines.append(
            f"| CLI `fast` (SPAN x4) | {fast_seconds:.1f} | {ref_s / fast_seconds:.2f}x | "
            f"{fast_peak / 2**30:.2f} GiB |"
        )
        inner = (slice(BORDER, -BORDER), slice(BORDER, -BORDER))
        lines += [
            "",
            f"PSNR of the CLI's PNG against the reference: **{psnr(ours, reference):.1f} dB** "
            f"whole, **{psnr(ours[inner], reference[inner]):.1f} dB** away from a {BORDER} px "
            "border (8-bit output rounding included).",
        ]
    else:
        lines.append(f"| CLI best | {seconds:.1f} | (PyTorch not installed) | {peak / 2**30:.2f} GiB |")
    lines.append("")


def tile_times(repeats: int, lines: list[str]) -> None:
    tile = np.ascontiguousarray(load_rgb("faces/obama.jpg")[300:428, 300:428])
    rows: list[tuple[str, float, np.ndarray]] = []
    configs = [
        ("photo-x4", "ncnn", "f32"),
        ("photo-x4", "onnxruntime", "f32"),
        ("photo-x4", "openvino", "f32"),
    ]
    if superres.native_bf16():
        configs.append(("photo-x4", "openvino", "bf16"))
    for key, runtime, precision in configs:
        network = superres.load(key, runtime, precision)
        seconds = best_of(lambda n=network: n.run(tile), repeats)
        rows.append((f"x4plus {runtime} {precision}", seconds, network.run(tile)))
        print(rows[-1][:2], flush=True)
    reference = None
    try:
        import torch

        spec = superres.MODELS["photo-x4"]
        model = build_torch_rrdbnet(ncnn_convert.load(*superres.model_paths(spec)))
        x = torch.from_numpy(np.ascontiguousarray(tile.transpose(2, 0, 1))[None])
        with torch.inference_mode():
            seconds = best_of(lambda: model(x), repeats)
            reference = model(x)[0].numpy().transpose(1, 2, 0)
            rows.append((f"x4plus PyTorch {torch.__version__} fp32", seconds, reference))
            if superres.native_bf16():
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    seconds = best_of(lambda: model(x), repeats)
                    out = model(x)[0].float().numpy().transpose(1, 2, 0)
                rows.append((f"x4plus PyTorch {torch.__version__} bf16 autocast", seconds, out))
    except ImportError:
        pass
    fast = superres.load("fast-x4")
    fast_seconds = best_of(lambda: fast.run(tile), repeats)
    fast_f32 = superres.load("fast-x4", fast.runtime, "f32")
    fast_f32_seconds = best_of(lambda: fast_f32.run(tile), repeats)
    anchor = next((s for label, s, _ in rows if "PyTorch" in label and "fp32" in label), None)
    lines += [
        f"### One 128x128 tile per runtime and precision (best of {repeats})",
        "",
        "| network, runtime, precision | seconds | vs PyTorch fp32 | PSNR vs PyTorch fp32 |",
        "| --- | --- | --- | --- |",
    ]
    for label, seconds, out in rows:
        ratio = f"{anchor / seconds:.2f}x" if anchor else "—"
        quality = f"{psnr(out, reference):.1f} dB" if reference is not None else "—"
        lines.append(f"| {label} | {seconds:.2f} | {ratio} | {quality} |")
    for label, seconds in (
        (f"SPAN x4 {fast.runtime} {fast.precision}", fast_seconds),
        (f"SPAN x4 {fast_f32.runtime} f32", fast_f32_seconds),
    ):
        ratio = f"{anchor / seconds:.1f}x" if anchor else "—"
        lines.append(f"| {label} | {seconds:.3f} | {ratio} | (another network) |")
    lines.append("")


def one_megapixel(folder: Path, lines: list[str]) -> None:
    rgb = load_rgb("faces/biden.jpg")[:1000, :970]  # 0.97 MP
    rgb = cv2.resize(rgb, (1000, 1000), interpolation=cv2.INTER_AREA) if rgb.shape[0] < 1000 else rgb
    rgb = np.ascontiguousarray(rgb[:1000, :1000])
    source = folder / "in1mp.jpg"
    source.write_bytes(codec.encode(Picture(rgb), "JPEG"))
    lines += [
        "### 1 MP (1000x1000 JPEG) through the CLI",
        "",
        "| factor | quality | seconds | peak RSS | goal |",
        "| --- | --- | --- | --- | --- |",
    ]
    goals = {(2, "best"): 30, (4, "best"): 120, (2, "fast"): 15, (4, "fast"): 15}
    for factor in (2, 4):
        for quality in ("best", "fast"):
            seconds, peak = cli(
                "upscale", str(source), str(folder / f"out-{factor}-{quality}.jpg"),
                "--factor", str(factor), "--quality", quality,
            )
            print("1MP", factor, quality, seconds, flush=True)
            lines.append(
                f"| x{factor} | {quality} | {seconds:.1f} | {peak / 2**30:.2f} GiB | "
                f"≤ {goals[(factor, quality)]} s |"
            )
    rows, cols = upscale.plan_tiles(1000, 1000, superres.MODELS["photo-x4"].context, 0)
    lines.append("")


CROPS = {
    "baboon": ("photos/baboon_gt.png", 48, 54),
    "obama": ("faces/obama.jpg", 200, 250),
    "biden": ("faces/biden.jpg", 300, 290),
    "forest": ("photos/hazy_forest.jpg", 200, 400),
    "two_people": ("faces/two_people.jpg", 100, 350),
    "obama2": ("faces/obama2.jpg", 300, 120),
}


def quality(size: int, lines: list[str]) -> None:
    """x2 routes and fast-tier candidates against ground truth and the x4plus routes."""
    superres.MODELS.setdefault(
        "span-x2", superres.ModelSpec("spanx2_ch48", 2, package=superres.SPAN_PACKAGE, context=24)
    )
    superres.MODELS.setdefault(
        "kendata-x4",
        superres.ModelSpec("4xSPANkendata", 4, package=superres.SPAN_PACKAGE, context=24),
    )

    def net(key: str, rgb: np.ndarray, factor: int) -> np.ndarray:
        return upscale.run_tiled(rgb, superres.load(key), factor)

    def bicubic(rgb: np.ndarray) -> np.ndarray:
        return np.clip(cv2.resize(rgb, (size, size), interpolation=cv2.INTER_CUBIC), 0, 1)

    x2 = {
        "x4plus, then 2x2 area average (old)": lambda lr: net("photo-x4", lr, 2),
        "**x4plus on the input halved (best x2)**": lambda lr: net("photo-x4", upscale.halve(lr), 4),
        "SPAN x2 native (spanx2_ch48)": lambda lr: net("span-x2", lr, 2),
        "**SPAN x4 on the input halved (fast x2)**": lambda lr: net("fast-x4", upscale.halve(lr), 4),
        "SPANkendata x4 on the input halved": lambda lr: net("kendata-x4", upscale.halve(lr), 4),
        "bicubic": bicubic,
    }
    x4 = {
        "**x4plus (best x4)**": lambda lr: net("photo-x4", lr, 4),
        "**SPAN x4, spanx4_ch48 (fast x4)**": lambda lr: net("fast-x4", lr, 4),
        "SPANkendata x4": lambda lr: net("kendata-x4", lr, 4),
        "bicubic": bicubic,
    }
    def degrade(rgb: np.ndarray, how: str) -> np.ndarray:
        if how == "clean":
            return rgb
        bgr = (np.clip(rgb[:, :, ::-1], 0, 1) * 255 + 0.5).astype(np.uint8)
        _, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 75])
        return cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1].astype(np.float32) / 255

    for factor, routes, how in ((2, x2, "clean"), (2, x2, "jpeg"), (4, x4, "clean"), (4, x4, "jpeg")):
        results: dict[str, list] = {label: [] for label in routes}
        for relative, y, x in CROPS.values():
            truth = np.ascontiguousarray(load_rgb(relative)[y : y + size, x : x + size])
            low = degrade(area(truth, factor), how)
            reference = None
            for label, route in routes.items():
                start = time.perf_counter()
                out = route(low)
                seconds = time.perf_counter() - start
                reference = out if reference is None else reference
                results[label].append(
                    (
                        psnr(out, truth),
                        ssim(out, truth),
                        psnr(out, reference),
                        detail(out) / detail(truth),
                        seconds,
                    )
                )
        first = next(iter(routes))
        lines += [
            f"### x{factor}: routes against ground truth ({len(CROPS)} crops of {size}x{size}, "
            f"inputs area-downscaled x{factor}"
            + (", then saved as JPEG quality 75)" if how == "jpeg" else ")"),
            "",
            f"| route | PSNR vs truth | SSIM vs truth | PSNR vs {first.strip('*')} | "
            "detail / truth's (Laplacian variance) | seconds, all crops |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for label, values in results.items():
            v = np.array(values)
            vs_first = "—" if label == first else f"{v[:, 2].mean():.2f} dB"
            lines.append(
                f"| {label} | {v[:, 0].mean():.2f} dB | {v[:, 1].mean():.3f} | {vs_first} | "
                f"{v[:, 3].mean():.2f} | {v[:, 4].sum():.1f} |"
            )
        lines.append("")
        print("\n".join(lines[-len(routes) - 5 :]), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1 repeat, smaller quality crops")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "upscale.md"))
    parser.add_argument("--skip", default="", help="comma list of: headline,tiles,1mp,quality")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    repeats = 1 if args.quick else 2
    load_before = os.getloadavg()
    network = superres.load("photo-x4")
    lines = [
        "## Upscale (`bench/bench_upscale.py`)",
        "",
        f"CPU: {cpu_line()}. Chosen here: `{network.runtime}` `{network.precision}` "
        f"(`python -m apps.imaging list`). Command: `python bench/bench_upscale.py`.",
        "",
    ]
    with tempfile.TemporaryDirectory() as folder:
        if "headline" not in skip:
            headline(Path(folder), repeats, lines)
        if "tiles" not in skip:
            tile_times(repeats, lines)
        if "1mp" not in skip:
            one_megapixel(Path(folder), lines)
    if "quality" not in skip:
        quality(192 if args.quick else 384, lines)
    load_after = os.getloadavg()
    lines += [
        f"Load average (1 min) at the start {load_before[0]:.1f}, at the end {load_after[0]:.1f}: "
        "the machine is shared, so absolute seconds vary between runs; the ratios in each table "
        "were measured side by side in this one run.",
        "",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
