"""The ``upscale`` operation: x2 / x4 for photos and art, in two quality tiers, tiled.

Networks (superres.MODELS) and how each request uses them (ROUTES), chosen by measurement on
the fixtures' high-resolution originals (docs/benchmarks.md, "Upscale"):

* ``best`` photo x4: Real-ESRGAN x4plus. ``best`` photo x2: x4plus on the input area-halved,
  so x2 costs a quarter of x4 instead of running x4 and throwing three quarters away.
* ``fast`` photo: SPAN (x4, ~40x fewer parameters), x2 the same way on the halved input.
* art: the compact realesr-animevideov3 networks, native x2 and x4 (already light: ``fast``
  uses them too).

Tiling: the image is cut into a grid whose windows each fit the memory budget
(``ENHANCER_MEMORY_BUDGET``) and, among those grids, the one computing the fewest pixels is
used — an image that fits is run whole. Each window carries ``context`` extra pixels on its
inner sides only: at the image border a window stops where the image stops, exactly as an
untiled run sees it, so there is nothing to pad and edge tiles cost less. Only each window's
centre is written into a preallocated output, so memory is the output plus one window's
activations, whatever the image size.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from . import superres
from .errors import EnhancerError
from .picture import Picture
from .progress import Progress, ignore, scaled

FACTORS = (2, 4)
KINDS = ("photo", "art")
QUALITIES = ("best", "fast")
MIN_CORE = 16  # smallest tile centre: below this the context dominates the work

MEMORY_BUDGET_ENV = "ENHANCER_MEMORY_BUDGET"
# A 2-core worker runs one heavy job at a time (it takes both cores); with 4 GB that job's upscale
# may use 3 GiB in all. At 3 GiB a 1 MP photo at x4 (16 MP out) runs RRDBNet's trunk in two
# windows: 13 % of context computed on top of the image, where 2 GiB needs four (27 %). The
# runtime, the weights and the process take about RUNTIME_OVERHEAD before any tile runs.
DEFAULT_MEMORY_BUDGET = 3 * 2**30
RUNTIME_OVERHEAD = 400 * 2**20
MIN_WINDOW_PIXELS = 128 * 128


@dataclass(frozen=True)
class Route:
    network: str  # key in superres.MODELS
    prescale: int = 1  # the input is area-shrunk by this before the network
    description: str = ""


ROUTES = {
    ("photo", 4, "best"): Route("photo-x4", 1, "Real-ESRGAN x4plus"),
    ("photo", 2, "best"): Route("photo-x4", 2, "Real-ESRGAN x4plus on the input halved"),
    ("photo", 4, "fast"): Route("fast-x4", 1, "SPAN x4"),
    ("photo", 2, "fast"): Route("fast-x4", 2, "SPAN x4 on the input halved"),
    ("art", 4, "best"): Route("art-x4", 1, "realesr-animevideov3 x4"),
    ("art", 2, "best"): Route("art-x2", 1, "realesr-animevideov3 x2"),
    ("art", 4, "fast"): Route("art-x4", 1, "realesr-animevideov3 x4"),
    ("art", 2, "fast"): Route("art-x2", 1, "realesr-animevideov3 x2"),
}
# (kind, factor) -> network of the best tier; kept for callers that only need the network.
NETWORKS = {(kind, factor): route.network for (kind, factor, q), route in ROUTES.items() if q == "best"}


def memory_budget() -> int:
    """Bytes one upscale may use: ``ENHANCER_MEMORY_BUDGET`` ("1.5GiB", "800MB", bytes)."""
    text = os.environ.get(MEMORY_BUDGET_ENV, "").strip()
    if not text:
        return DEFAULT_MEMORY_BUDGET
    match = re.fullmatch(r"(?i)(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)", text)
    if not match:
        raise EnhancerError(
            EnhancerError.INTERNAL, f"{MEMORY_BUDGET_ENV}={text!r}: use e.g. 2GiB, 1500MB or bytes"
        )
    number, prefix, binary = match.groups()
    base = 1024 if binary.lower().startswith("i") or not binary else 1000
    return int(float(number) * base ** "_kmgt".index(prefix.lower() or "_"))


def tile_settings(network_key: str = "") -> tuple[int | None, int | None]:
    """(largest window side, context) forced by ``ENHANCER_TILE`` / ``ENHANCER_TILE_PAD``;
    None where unset: windows then come from the memory budget and context from each
    network's measured need (superres.MODELS)."""
    tile = os.environ.get("ENHANCER_TILE", "").strip()
    pad = os.environ.get("ENHANCER_TILE_PAD", "").strip()
    return (max(MIN_CORE, int(tile)) if tile else None, max(0, int(pad)) if pad else None)


def clean_params(params: dict) -> dict:
    params = dict(params)
    factor = params.pop("factor", 4)
    kind = params.pop("kind", "photo")
    quality = params.pop("quality", "best")
    if params:
        raise EnhancerError(
            EnhancerError.BAD_PARAMS,
            f"Unknown upscale parameters: {', '.join(sorted(map(str, params)))}; "
            "use factor, kind and quality.",
        )
    try:
        if isinstance(factor, bool):
            raise ValueError
        if isinstance(factor, str):
            factor = factor.strip()
        number = float(factor)
        if number != int(number):
            raise ValueError
        factor = int(number)
    except (TypeError, ValueError, OverflowError):
        raise EnhancerError(
            EnhancerError.BAD_PARAMS, f"factor must be 2 or 4, got {factor!r}."
        ) from None
    if factor not in FACTORS:
        raise EnhancerError(EnhancerError.BAD_PARAMS, f"factor must be 2 or 4, got {factor}.")
    if not isinstance(kind, str) or kind.strip().lower() not in KINDS:
        raise EnhancerError(
            EnhancerError.BAD_PARAMS, f"kind must be 'photo' or 'art', got {kind!r}."
        )
    if not isinstance(quality, str) or quality.strip().lower() not in QUALITIES:
        raise EnhancerError(
            EnhancerError.BAD_PARAMS, f"quality must be 'fast' or 'best', got {quality!r}."
        )
    return {"factor": factor, "kind": kind.strip().lower(), "quality": quality.strip().lower()}


def unavailable_reason() -> str | None:
    # The best tier is the operation; a missing fast network only removes that option.
    for key in sorted(NETWORKS.values()):
        reason = superres.missing_reason(key)
        if reason:
            return reason
    return None


def _split(length: int, count: int) -> list[tuple[int, int]]:
    """``count`` centres covering ``length``, sizes differing by at most one pixel."""
    return [(length * i // count, length * (i + 1) // count) for i in range(count)]


def _windows(length: int, count: int, pad: int) -> list[tuple[int, int, int, int]]:
    """(window start, window end, centre start, centre end) per tile along one axis."""
    return [
        (max(0, start - pad), min(length, end + pad), start, end)
        for start, end in _split(length, count)
    ]


def _axis(length: int, count: int, pad: int) -> tuple[int, int]:
    """(largest window, sum of windows) along one axis for ``count`` tiles."""
    windows = _windows(length, count, pad)
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


def _steps(network) -> list[_Step]:
    stages = getattr(network, "stages", None)
    if stages:
        return [
            _Step(s.graph.infer, s.graph.channels, s.scale, s.context, s.bytes_per_pixel, s.share)
            for s in stages
        ]

    # Anything with ``run`` (H x W x 3 -> sH x sW x 3) and ``scale``: one step.
    def infer(chw: np.ndarray) -> np.ndarray:
        return np.asarray(network.run(chw.transpose(1, 2, 0))).transpose(2, 0, 1)

    return [_Step(infer, 3, network.scale, 16, 12_000, 1.0)]


def _window_pixels(step: _Step, fixed_bytes: int) -> int:
    """The most input pixels one window may have: what the budget leaves after the runtime and
    the arrays the job holds anyway, divided by the step's measured memory per pixel."""
    free = memory_budget() - RUNTIME_OVERHEAD - fixed_bytes
    return max(MIN_WINDOW_PIXELS, free // max(1, step.bytes_per_pixel))


def _run_step(
    source: np.ndarray,
    step: _Step,
    shrink: int,
    pad: int,
    max_pixels: int,
    out: np.ndarray,
    final: bool,
    progress: Progress,
) -> None:
    """Tile ``source`` (C x H x W) through one step into ``out``: C' x sH x sW, or for the final
    step (H*f) x (W*f) x 3 clipped to [0, 1] with f = scale / shrink."""
    _, height, width = source.shape
    scale, factor = step.scale, step.scale // shrink
    rows, cols = plan_tiles(height, width, pad, max_pixels)
    row_windows, col_windows = _windows(height, rows, pad), _windows(width, cols, pad)
    total = sum(w1 - w0 for w0, w1, _, _ in row_windows) * sum(
        w1 - w0 for w0, w1, _, _ in col_windows
    )
    done = 0
    for wy0, wy1, y0, y1 in row_windows:
        for wx0, wx1, x0, x1 in col_windows:
            result = step.infer(source[:, wy0:wy1, wx0:wx1])
            core = result[
                :,
                (y0 - wy0) * scale : (y1 - wy0) * scale,
                (x0 - wx0) * scale : (x1 - wx0) * scale,
            ]
            if not final:
                out[:, y0 * scale : y1 * scale, x0 * scale : x1 * scale] = core
            else:
                core = core.transpose(1, 2, 0)
                if shrink > 1:
                    core = cv2.resize(
                        np.ascontiguousarray(core),
                        ((x1 - x0) * factor, (y1 - y0) * factor),
                        interpolation=cv2.INTER_AREA,
                    )
                target = out[y0 * factor : y1 * factor, x0 * factor : x1 * factor]
                np.clip(core, 0.0, 1.0, out=target)
            done += (wy1 - wy0) * (wx1 - wx0)
            progress(done / total)


def run_tiled(
    rgb: np.ndarray,
    network,
    factor: int,
    tile: int | None = None,
    pad: int | None = None,
    progress: Progress = ignore,
) -> np.ndarray:
    """(H, W, 3) float32 in [0, 1] -> (factor*H, factor*W, 3) float32 in [0, 1].

    Each of the network's graphs is tiled on its own: windows as large as the memory budget
    allows (or ``tile * tile`` input pixels when given), each with the graph's own context
    (or ``pad``) on its inner sides. When the network's scale is larger than ``factor`` the
    result is area-averaged down (an integer ratio, so exact per tile).
    """
    height, width = rgb.shape[:2]
    steps = _steps(network)
    scale = math.prod(step.scale for step in steps)
    if scale % factor or steps[-1].scale % (scale // factor):
        raise ValueError(f"network scale {scale} cannot give factor {factor}")
    out_bytes = height * width * factor * factor * 3 * 4
    source = np.ascontiguousarray(np.asarray(rgb, np.float32).transpose(2, 0, 1))
    out = np.empty((height * factor, width * factor, 3), np.float32)
    progress(0.0)
    start = 0.0
    size = 1
    for index, step in enumerate(steps):
        final = index == len(steps) - 1
        # Intermediate features are held whole (e.g. RRDBNet's 64 channels at input size).
        target = out if final else np.empty(
            (step.channels, height * size * step.scale, width * size * step.scale), np.float32
        )
        fixed = out_bytes + source.nbytes + (0 if final else target.nbytes)
        max_pixels = tile * tile if tile else _window_pixels(step, fixed)
        context = step.context if pad is None else pad
        _run_step(
            source,
            step,
            scale // factor if final else 1,
            context,
            max_pixels,
            target,
            final,
            scaled(progress, start, start + step.share),
        )
        start += step.share
        size *= step.scale
        source = target
    return out


def halve(rgb: np.ndarray) -> np.ndarray:
    """Area-average 2x2 blocks (the last row / column mirrored first when odd)."""
    height, width = rgb.shape[:2]
    if height % 2 or width % 2:
        rgb = cv2.copyMakeBorder(rgb, 0, height % 2, 0, width % 2, cv2.BORDER_REFLECT_101)
    return cv2.resize(rgb, (rgb.shape[1] // 2, rgb.shape[0] // 2), interpolation=cv2.INTER_AREA)


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
    factor: int = 4,
    kind: str = "photo",
    quality: str = "best",
    progress: Progress = ignore,
    tile: int | None = None,
    pad: int | None = None,
) -> np.ndarray:
    route = ROUTES[(kind, factor, quality)]
    network = superres.load(route.network)
    height, width = rgb.shape[:2]
    source = halve(rgb) if route.prescale > 1 else rgb
    net_factor = factor * route.prescale
    forced_tile, forced_pad = tile_settings(route.network)
    tile = forced_tile if tile is None else tile
    pad = forced_pad if pad is None else pad
    out = run_tiled(source, network, net_factor, tile, pad, progress)
    if out.shape[0] != height * factor or out.shape[1] != width * factor:
        out = np.ascontiguousarray(out[: height * factor, : width * factor])
    return out


def upscale(
    picture: Picture,
    factor: int = 4,
    kind: str = "photo",
    progress: Progress = ignore,
    tile: int | None = None,
    pad: int | None = None,
    quality: str = "best",
) -> Picture:
    rgb = upscale_rgb(picture.rgb, factor, kind, quality, progress, tile, pad)
    alpha = upscale_alpha(picture.alpha, factor) if picture.alpha is not None else None
    # Built directly (not with_rgb) so the big output array is not copied again.
    return Picture(rgb, alpha, picture.bit_depth, picture.format, dict(picture.info))


def run(picture: Picture, params: dict, progress: Progress = ignore):
    from .operations import Result

    params = clean_params(params)
    route = ROUTES[(params["kind"], params["factor"], params["quality"])]
    resolved = upscale(
        picture, params["factor"], params["kind"], progress, quality=params["quality"]
    )
    network = superres.load(route.network)
    return Result(
        {"resolved": resolved},
        {
            "factor": params["factor"],
            "kind": params["kind"],
            "quality": params["quality"],
            "model": superres.MODELS[route.network].name,
            "method": route.description,
            "runtime": network.runtime,
            "precision": network.precision,
            "width": resolved.width,
            "height": resolved.height,
        },
    )
