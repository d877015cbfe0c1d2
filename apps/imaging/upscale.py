"""The ``upscale`` operation: x2 / x4 for photos and art, in two quality tiers, tiled.

Networks (networks.MODELS) and which serves each request (ROUTES) were chosen by measurement
against ground truth — high-resolution crops of the fixtures, downscaled to make the inputs,
clean and JPEG-compressed (docs/benchmarks.md, "Upscale"):

* photo x4 ``best``: Real-ESRGAN x4plus (the GAN: most real texture, JPEG artefacts cleaned);
  ``fast``: SPAN x4 (0.4 M parameters, 40x fewer; higher PSNR, smoother texture).
* photo x2, both tiers: SPAN x2, a native x2 network. It beat the alternatives on PSNR and
  SSIM against ground truth on clean and JPEG inputs alike — x4plus then 2x2 area averaging
  (the old route: 16 output pixels computed per input pixel, 30x slower) and x4plus on the
  input halved (x2 cost, but 2-3 dB worse: halving throws detail away first).
* art: the compact realesr-animevideov3 networks, native x2 and x4 (already light).

Tiling: the image is cut into a grid whose windows each fit the memory budget
(``ENHANCER_MEMORY_BUDGET``) and, among those grids, the one computing the fewest pixels is
used — an image that fits is run whole. Each window carries context on its inner sides only:
at the image border a window stops where the image stops, exactly as an untiled run sees it,
so there is nothing to pad and edge tiles cost less. RRDBNet runs as a trunk (long-range
context, little memory per pixel: large windows) and a head (the upsampling: most of the
memory, ~2 px of context: small windows run on each trunk window's features, each graph giving
its memory back before the other runs; networks.ModelSpec.split). Only each window's centre is
written into a preallocated output, so memory is the output plus one window's activations,
whatever the image size.
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from . import networks, runtimes
from .config import MEMORY_BUDGET_ENV, config
from .errors import EnhancerError, gettext_noop
from .operation import Choice, Operation, Param, Rate, Result, Work
from .picture import Picture
from .progress import Progress, ignore, scaled

MIN_CORE = 16  # smallest tile centre: below this the context dominates the work

# A worker runs one heavy job at a time (it takes every core), so by default that job's upscale
# may use a quarter of the machine's memory, and at least 3 GiB. Each trunk window recomputes
# 68 px of context around it (int8 on a Zen 5 EPYC, 3,200 B per window pixel): at 3 GiB a
# 1 MP photo at x4 takes two windows (14 % on top of the image), a 2000x2000 one 2x5 (36 %); at
# 6 GiB (a 24 GiB machine) one window and 2x2 (14 %). The runtime, the weights and the process
# take about RUNTIME_OVERHEAD.
MIN_DEFAULT_MEMORY_BUDGET = 3 * 2**30
RUNTIME_OVERHEAD = 400 * 2**20
MIN_WINDOW_PIXELS = 128 * 128


@dataclass(frozen=True)
class Route:
    network: str  # key in networks.MODELS
    description: str


ROUTES = {
    ("photo", 4, "best"): Route("photo-x4", "Real-ESRGAN x4plus"),
    ("photo", 4, "fast"): Route("fast-x4", "SPAN x4"),
    ("photo", 2, "best"): Route("fast-x2", "SPAN x2"),
    ("photo", 2, "fast"): Route("fast-x2", "SPAN x2"),
    ("art", 4, "best"): Route("art-x4", "realesr-animevideov3 x4"),
    ("art", 2, "best"): Route("art-x2", "realesr-animevideov3 x2"),
    ("art", 4, "fast"): Route("art-x4", "realesr-animevideov3 x4"),
    ("art", 2, "fast"): Route("art-x2", "realesr-animevideov3 x2"),
}
# (kind, factor) -> network of the best tier; kept for callers that only need the network.
NETWORKS = {
    (kind, factor): route.network for (kind, factor, tier), route in ROUTES.items() if tier == "best"
}


def default_memory_budget() -> int:
    """A quarter of the machine's memory (its cgroup limit where lower), at least 3 GiB."""
    return max(MIN_DEFAULT_MEMORY_BUDGET, (runtimes.machine_memory() or 0) // 4)


def memory_budget() -> int:
    """Bytes one upscale may use: ``ENHANCER_MEMORY_BUDGET`` ("1.5GiB", "800MB", bytes), else
    :func:`default_memory_budget`."""
    text = config().memory_budget
    if not text:
        return default_memory_budget()
    match = re.fullmatch(r"(?i)(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)", text)
    if not match:
        raise EnhancerError(
            EnhancerError.INTERNAL,
            gettext_noop("%(variable)s=%(value)s: use e.g. 2GiB, 1500MB or bytes"),
            {"variable": MEMORY_BUDGET_ENV, "value": repr(text)},
        )
    number, prefix, binary = match.groups()
    base = 1024 if binary.lower().startswith("i") or not binary else 1000
    return int(float(number) * base ** "_kmgt".index(prefix.lower() or "_"))


def tile_settings() -> tuple[int | None, int | None]:
    """(largest window side, context) forced by ``ENHANCER_TILE`` / ``ENHANCER_TILE_PAD``;
    None where unset: windows then come from the memory budget and context from each
    network's measured need (networks.MODELS)."""
    tile, pad = config().tile, config().tile_pad
    return (
        max(MIN_CORE, tile) if tile is not None else None,
        max(0, pad) if pad is not None else None,
    )


def unavailable_reason() -> str | None:
    # The best tier is the operation; a missing fast network only removes that option.
    for key in sorted(NETWORKS.values()):
        reason = networks.missing_reason(key)
        if reason:
            return reason
    return None


def _split(length: int, count: int) -> list[tuple[int, int]]:
    """``count`` centres covering ``length``, sizes differing by at most one pixel."""
    return [(length * i // count, length * (i + 1) // count) for i in range(count)]


def _axis(length: int, count: int, pad: int) -> tuple[int, int]:
    """(largest window, sum of windows) along one axis for ``count`` tiles."""
    windows = _windows_in(length, 0, length, count, pad)
    return max(w1 - w0 for w0, w1, _, _ in windows), sum(w1 - w0 for w0, w1, _, _ in windows)


def plan_tiles(height: int, width: int, pad: int, max_pixels: int) -> tuple[int, int]:
    """(rows, cols) of the grid computing the fewest pixels with every window within
    ``max_pixels``; if none is (a tiny budget against a large context), the finest grid."""
    best: tuple[int, int, int] | None = None  # (cost, rows, cols)
    for rows in range(1, max(1, height // MIN_CORE) + 1):
        tall, sum_y = _axis(height, rows, pad)
        if best is not None and sum_y * width >= best[0]:
            break  # more rows only add context
        widest = max_pixels // tall
        if widest < 1:
            continue
        cols = max(1, math.ceil(width / widest))
        while cols <= max(1, width // MIN_CORE):
            wide, sum_x = _axis(width, cols, pad)
            if wide <= widest:
                cost = sum_y * sum_x
                if best is None or cost < best[0]:
                    best = (cost, rows, cols)
                break
            cols += 1
    if best is None:
        return max(1, height // MIN_CORE), max(1, width // MIN_CORE)
    return best[1], best[2]


@dataclass(frozen=True)
class _Step:
    """One graph to tile: ``infer`` maps C x h x w to C' x (scale*h) x (scale*w)."""

    infer: Callable[[np.ndarray], np.ndarray]
    channels: int
    scale: int
    context: int
    bytes_per_pixel: int
    share: float
    guard: bool = False
    release: Callable[[], None] = lambda: None
    graph: object = None  # keeps the measured speed (seconds_per_pixel) for the process
    window_pixels: int | None = None  # the largest window worth running (ModelSpec)


# Before a graph has run once in this process its speed is unknown: the bar then moves as
# elapsed / (elapsed + this), never reaching the window's end before the window does.
FIRST_WINDOW_GUESS = 20.0


# Of the whole job per second: however far a window overruns its expected time (a loaded CPU
# where one window takes minutes: 3 s per per cent on a Zen 1 EPYC), the bar keeps moving this
# fast while the window has room, rather than creeping along _share's tail.
MIN_PACE = 0.01 / 4


def _share(ratio: float) -> float:
    """The window's share done at ``ratio`` of its expected time: linear up to 0.8, then slower
    and slower towards 1 (0.9 at the expected time, 0.95 at 1.4x), so a window slower than the
    earlier ones (a busy machine) still moves the bar and never reaches its end early."""
    return ratio if ratio <= 0.8 else 1 - 0.04 / (ratio - 0.6)


def _infer(step: _Step, window: np.ndarray, progress: Progress, start: float, end: float):
    """``step.infer(window)``, reporting progress from ``start`` towards ``end`` while it runs
    (runtimes that run in the background tick about once a second): by the speed measured on
    earlier windows, so that the bar and the time left move during a long window."""
    pixels = window.shape[1] * window.shape[2]
    rate = getattr(step.graph, "seconds_per_pixel", None)
    expected = pixels * rate if rate else None
    began = time.monotonic()
    last = {"elapsed": 0.0, "share": 0.0}

    def tick() -> None:
        elapsed = time.monotonic() - began
        share = _share(elapsed / expected) if expected else elapsed / (
            elapsed + FIRST_WINDOW_GUESS
        )
        if end > start:  # at least MIN_PACE since the last tick while the window has room
            floor = last["share"] + (elapsed - last["elapsed"]) * MIN_PACE / (end - start)
            share = max(share, min(0.99, floor))
        last.update(elapsed=elapsed, share=share)
        progress(start + (end - start) * share)

    result = step.infer(window, tick)
    if step.graph is not None:
        step.graph.seconds_per_pixel = (time.monotonic() - began) / pixels
    return result


def _steps(network) -> list[_Step]:
    stages = getattr(network, "stages", None)
    if stages:
        lock = network.lock

        def locked(graph):
            def infer(chw: np.ndarray, tick=None) -> np.ndarray:
                with lock:  # one inference at a time per network: it uses every core already
                    return graph.infer(chw, tick)

            return infer

        return [
            _Step(
                locked(s.graph),
                s.graph.channels,
                s.scale,
                s.context,
                s.bytes_per_pixel,
                s.share,
                s.guard,
                s.graph.release,
                s.graph,
                s.window_pixels,
            )
            for s in stages
        ]

    # Anything with ``run`` (H x W x 3 -> sH x sW x 3) and ``scale``: one step.
    def infer(chw: np.ndarray, tick=None) -> np.ndarray:
        return np.asarray(network.run(chw.transpose(1, 2, 0))).transpose(2, 0, 1)

    return [_Step(infer, 3, network.scale, 16, 12_000, 1.0)]


def _window_pixels(bytes_per_pixel: int, held_bytes: int, most: int | None = None) -> int:
    """The most input pixels one window may have: what the budget leaves after the runtime and
    the arrays the job holds anyway, divided by the measured memory per window pixel, and no
    more than ``most`` (the window a graph stops gaining from: ModelSpec.window_pixels)."""
    free = memory_budget() - RUNTIME_OVERHEAD - held_bytes
    allowed = max(MIN_WINDOW_PIXELS, free // max(1, bytes_per_pixel))
    return min(allowed, most or allowed)


def _windows_in(
    length: int, start: int, end: int, count: int, pad: int
) -> list[tuple[int, int, int, int]]:
    """``count`` tiles covering [start, end) of an axis of ``length``: (window start, window
    end, centre start, centre end), context taken from the whole axis."""
    return [
        (max(0, start + a - pad), min(length, start + b + pad), start + a, start + b)
        for a, b in _split(end - start, count)
    ]


def _tile_step(
    source: np.ndarray,
    step: _Step,
    shrink: int,
    pad: int,
    max_pixels: int,
    out: np.ndarray,
    progress: Progress,
    region: tuple[int, int, int, int] | None = None,
) -> None:
    """Tile ``region`` (rows y0..y1, columns x0..x1; default all) of ``source`` (C x H x W)
    through the last step of a network into ``out``: the region's (h*f) x (w*f) x 3 output,
    clipped to [0, 1], with f = scale / shrink. Context comes from all of ``source``."""
    _, height, width = source.shape
    ry0, ry1, rx0, rx1 = region or (0, height, 0, width)
    scale, factor = step.scale, step.scale // shrink
    rows, cols = plan_tiles(ry1 - ry0, rx1 - rx0, pad, max_pixels)
    row_windows = _windows_in(height, ry0, ry1, rows, pad)
    col_windows = _windows_in(width, rx0, rx1, cols, pad)
    total = sum(w1 - w0 for w0, w1, _, _ in row_windows) * sum(
        w1 - w0 for w0, w1, _, _ in col_windows
    )
    done = 0
    for wy0, wy1, y0, y1 in row_windows:
        for wx0, wx1, x0, x1 in col_windows:
            window = source[:, wy0:wy1, wx0:wx1]
            area = (wy1 - wy0) * (wx1 - wx0)
            result = _infer(step, window, progress, done / total, (done + area) / total)
            if step.guard:
                result = guard_blowups(window, result, scale)
            core = result[
                :,
                (y0 - wy0) * scale : (y1 - wy0) * scale,
                (x0 - wx0) * scale : (x1 - wx0) * scale,
            ].transpose(1, 2, 0)
            if shrink > 1:
                core = cv2.resize(
                    np.ascontiguousarray(core),
                    ((x1 - x0) * factor, (y1 - y0) * factor),
                    interpolation=cv2.INTER_AREA,
                )
            target = out[
                (y0 - ry0) * factor : (y1 - ry0) * factor,
                (x0 - rx0) * factor : (x1 - rx0) * factor,
            ]
            np.clip(core, 0.0, 1.0, out=target)
            done += area
            progress(done / total)


BLOWUP = 0.5  # beyond [0, 1] by this much: no real over- or undershoot (measured <= 0.3)
DEVIATION = 0.1  # how far from bicubic the garbage around a blow-up reaches


def guard_blowups(window: np.ndarray, result: np.ndarray, scale: int) -> np.ndarray:
    """Replace a network's numerical blow-ups with bicubic (C x H x W in, C x sH x sW out).

    Seeds are pixels far outside [0, 1]; the blot around them is grown through the pixels that
    differ from bicubic by more than DEVIATION, then feathered. Where nothing blew up (every
    photo measured) the result is returned untouched, at the cost of one comparison.
    """
    seed = ((result < -BLOWUP) | (result > 1 + BLOWUP)).any(axis=0)
    if not seed.any():
        return result
    out = np.ascontiguousarray(result.transpose(1, 2, 0))
    size = (out.shape[1], out.shape[0])
    bicubic = cv2.resize(
        np.ascontiguousarray(window.transpose(1, 2, 0)), size, interpolation=cv2.INTER_CUBIC
    ).reshape(out.shape)
    deviates = (np.abs(out - bicubic).max(axis=2) > DEVIATION).astype(np.uint8)
    region = seed.astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    for _ in range(8 * scale):  # morphological reconstruction of the blot from its seeds
        grown = (cv2.dilate(region, kernel) & deviates) | seed
        if np.array_equal(grown, region):
            break
        region = grown
    region = cv2.dilate(region, kernel, iterations=scale)
    weight = np.maximum(cv2.GaussianBlur(region.astype(np.float32), (0, 0), scale), region)
    weight = weight[:, :, None]
    return (out * (1 - weight) + bicubic * weight).transpose(2, 0, 1)


def run_tiled(
    rgb: np.ndarray,
    network,
    factor: int,
    tile: int | None = None,
    pad: int | None = None,
    progress: Progress = ignore,
) -> np.ndarray:
    """(H, W, 3) float32 in [0, 1] -> (factor*H, factor*W, 3) float32 in [0, 1].

    Windows are as large as the memory budget allows (or ``tile * tile`` input pixels when
    given), each with the graph's own context (or ``pad``) on its inner sides. A split network
    runs its trunk window by window, and each trunk window's centre straight through the head
    in smaller windows: the trunk's features never exist for the whole image at once. When the
    network's scale is larger than ``factor`` the result is area-averaged down (an integer
    ratio, so exact per tile).
    """
    height, width = rgb.shape[:2]
    steps = _steps(network)
    scale = math.prod(step.scale for step in steps)
    shrink = scale // factor if factor and scale % factor == 0 else 0
    if not shrink or steps[-1].scale % shrink:
        raise ValueError(f"network scale {scale} cannot give factor {factor}")
    if len(steps) > 2 or (len(steps) == 2 and steps[0].scale != 1):
        raise ValueError("only a trunk at input size followed by a head can be split")
    source = np.ascontiguousarray(np.asarray(rgb, np.float32).transpose(2, 0, 1))
    out = np.empty((height * factor, width * factor, 3), np.float32)
    held = out.nbytes + source.nbytes
    head = steps[-1]
    head_pad = head.context if pad is None else pad
    lock = getattr(network, "lock", None) or contextlib.nullcontext()
    progress(0.0)
    try:
        if len(steps) == 1:
            allowance = tile * tile if tile else _window_pixels(
                head.bytes_per_pixel, held, head.window_pixels
            )
            _tile_step(source, head, shrink, head_pad, allowance, out, progress)
            return out
        trunk = steps[0]
        # The head reads features up to head_pad beyond each trunk centre: those need the
        # trunk's full context too.
        trunk_pad = (trunk.context if pad is None else pad) + head_pad
        # A trunk window holds its features (channels x float32) while the head runs on them.
        feature_bytes = trunk.channels * 4
        trunk_pixels = tile * tile if tile else _window_pixels(
            trunk.bytes_per_pixel + feature_bytes, held, trunk.window_pixels
        )
        rows, cols = plan_tiles(height, width, trunk_pad, trunk_pixels)
        row_windows = _windows_in(height, 0, height, rows, trunk_pad)
        col_windows = _windows_in(width, 0, width, cols, trunk_pad)
        total = sum(w1 - w0 for w0, w1, _, _ in row_windows) * sum(
            w1 - w0 for w0, w1, _, _ in col_windows
        )
        done = 0
        for wy0, wy1, y0, y1 in row_windows:
            for wx0, wx1, x0, x1 in col_windows:
                area = (wy1 - wy0) * (wx1 - wx0)
                features = _infer(
                    trunk, source[:, wy0:wy1, wx0:wx1], progress, done / total,
                    (done + area * trunk.share) / total,
                )
                with lock:  # the trunk's buffers go before the head allocates its own
                    trunk.release()
                progress((done + area * trunk.share) / total)
                head_pixels = tile * tile if tile else _window_pixels(
                    head.bytes_per_pixel, held + features.nbytes, head.window_pixels
                )
                start = done + area * trunk.share
                _tile_step(
                    features,
                    head,
                    shrink,
                    head_pad,
                    head_pixels,
                    out[y0 * factor : y1 * factor, x0 * factor : x1 * factor],
                    scaled(progress, start / total, (done + area) / total),
                    (y0 - wy0, y1 - wy0, x0 - wx0, x1 - wx0),
                )
                with lock:
                    head.release()
                done += area
                progress(done / total)
        return out
    finally:
        with lock:  # an idle worker should not sit on a job's worth of buffers
            for step in steps:
                step.release()


def upscale_alpha(alpha: np.ndarray, factor: int) -> np.ndarray:
    # Alpha goes through Lanczos, not the network: masks are smooth or hard-edged, a GAN would
    # paint texture into them, and a second network pass would double the run time.
    height, width = alpha.shape
    resized = cv2.resize(
        alpha.astype(np.float32),
        (width * factor, height * factor),
        interpolation=cv2.INTER_LANCZOS4,
    )
    return np.clip(resized, 0.0, 1.0, out=resized)


def upscale_rgb(
    rgb: np.ndarray,
    network: networks.Network,
    factor: int,
    progress: Progress = ignore,
    tile: int | None = None,
    pad: int | None = None,
) -> np.ndarray:
    """``rgb`` upscaled ``factor`` times by ``network`` (a network of another scale is resized
    to ``factor`` per tile), in tiles sized for the memory budget or forced by ``tile_settings``."""
    forced_tile, forced_pad = tile_settings()
    tile = forced_tile if tile is None else tile
    pad = forced_pad if pad is None else pad
    return run_tiled(rgb, network, factor, tile, pad, progress)


def upscale(
    picture: Picture,
    network: networks.Network,
    factor: int,
    progress: Progress = ignore,
    tile: int | None = None,
    pad: int | None = None,
) -> Picture:
    """The picture's colour through :func:`upscale_rgb` (same arguments), its alpha through
    Lanczos."""
    rgb = upscale_rgb(picture.rgb, network, factor, progress, tile, pad)
    alpha = upscale_alpha(picture.alpha, factor) if picture.alpha is not None else None
    # Built directly (not with_rgb) so the big output array is not copied again.
    return Picture(rgb, alpha, picture.bit_depth, picture.format, dict(picture.info))


def run(picture: Picture, params: dict, progress: Progress = ignore):
    # ``params`` were cleaned at submission (operations.run's callers); the worker trusts them.
    # The route is looked up and its network loaded here only, then handed down.
    route = ROUTES[(params["kind"], params["factor"], params["quality"])]
    network = networks.load(route.network)
    resolved = upscale(picture, network, params["factor"], progress)
    return Result(
        {"resolved": resolved},
        {
            "factor": params["factor"],
            "kind": params["kind"],
            "quality": params["quality"],
            "model": network.spec.name,
            "method": route.description,
            "runtime": network.runtime,
            "precision": network.precision,
            "width": resolved.width,
            "height": resolved.height,
        },
    )


def work(params: dict, _pixels: int) -> Work:
    """Heavy. Tiers that run the same network (photo x2, art) share the fast tier's cost key:
    one rate, learnt from both, so neither is estimated slower than the other by the noise of
    a few jobs."""
    try:
        chosen = (params["kind"], int(params["factor"]))
    except (KeyError, TypeError, ValueError):
        return Work(heavy=True)  # not cleaned parameters: keyed as they come
    tiers = {route.network for (kind, factor, _tier), route in ROUTES.items() if (kind, factor) == chosen}
    if "quality" in params and len(tiers) == 1:
        return Work(heavy=True, key={"quality": "fast"})
    return Work(heavy=True)


OPERATION = Operation(
    "upscale", "Upscale", run,
    params=(
        Param("factor", (Choice(2, "×2"), Choice(4, "×4")), 4, gettext_noop("Upscale factor"),
              cheaper=(2,)),
        Param("kind", (Choice("photo", gettext_noop("Photo")),
                       Choice("art", gettext_noop("Art / drawing"))),
              "photo", gettext_noop("Upscale kind")),
        # Listed fast first: the API's refusal has always said "'fast' or 'best'".
        Param("quality", (Choice("fast", gettext_noop("Fast")), Choice("best", gettext_noop("Best"))),
              "best", gettext_noop("Upscale quality"),
              gettext_noop("Fast: a light network, several times quicker, a little less detail."),
              cheaper=("fast",)),
    ),
    unavailable_reason=unavailable_reason, outputs=("resolved",), work=work, heavy_in_cloud=True,
    # Float32 rates of a 2-core CPU without bf16 (x4plus: ModelSpec.float_rate); costs divides
    # them by how much faster the network runs here (networks.known_speedup). x4plus is timed
    # by the race run here when its int8 graph was made (1 MP x4 `best`: 30 s on a Xeon with
    # AMX, 148 s on a Zen 3 EPYC with AVX2 only, 452 s on a Zen 1), the others by the float
    # choice's probe gain, and each machine's own jobs pull them further. Photo x2 and the fast
    # tier run SPAN (3-4 s per MP in bf16). Ties go to the earlier rate, so art (whatever the
    # tier) comes before the photo rates.
    rates=(
        Rate(3.0, 90.0, {"kind": "art", "factor": "2"}, network="art-x2"),
        Rate(3.0, 90.0, {"kind": "art", "factor": "4"}, network="art-x4"),
        Rate(5.0, networks.MODELS["photo-x4"].float_rate, network="photo-x4"),
        Rate(3.0, 10.0, {"factor": "2"}, network="fast-x2"),
        Rate(3.0, 10.0, {"quality": "fast"}, network="fast-x4"),
        Rate(3.0, 10.0, {"quality": "fast", "factor": "2"}, network="fast-x2"),
    ),
)
