"""The ``upscale`` operation: Real-ESRGAN x2 / x4 for photos and art, tiled.

The input is cut into ``tile`` x ``tile`` pieces; each is run with ``pad`` pixels of context on
every side (the image is reflect-padded once, so edge tiles see the same border as an untiled
run) and only its centre is written into a preallocated output array, so memory is the output
plus one tile's activations, whatever the image size. x2 ``photo`` runs the x4 network and
area-averages each output tile 2x2 (exact and tile-local, so tiling stays seamless).
"""

from __future__ import annotations

import math
import os

import cv2
import numpy as np

from . import superres
from .errors import EnhancerError
from .picture import Picture
from .progress import Progress, ignore

DEFAULT_TILE = 192
DEFAULT_PAD = 16
# Per network (tile, pad). The compact art network sees 17 px around a pixel, so 16 px of
# context reproduces an untiled run (max diff 0.08/255 measured). RRDBNet (photo) is 345 convs
# deep and its output still depends on content far away: measured on a 256 px crop of
# alpha_children.png, tiled vs untiled differ by at most 13/255 with 32 px of context, 5.2/255
# with 48 and 1.25/255 with 64 — so 64. With onnxruntime a 352 px tile input peaks at 1.6 GB
# RSS and a 300 px one at 1.3 GB; 192 + 2*64 = 320 px tiles keep a 2000x2000 x4 job (768 MB
# float32 output, then its encoding) under 3 GiB. ncnn needs
# ~3.5x that memory per tile pixel, so with it RRDBNet gets small tiles and less context (seams
# up to 13/255). ENHANCER_TILE / ENHANCER_TILE_PAD override both.
TILES = {
    "photo-x4": (192, 64),
    "anime-x4": (192, 64),
    "art-x4": (DEFAULT_TILE, DEFAULT_PAD),
    "art-x2": (DEFAULT_TILE, DEFAULT_PAD),
}
NCNN_RRDB_TILE = (96, 32)
FACTORS = (2, 4)
KINDS = ("photo", "art")

# (kind, factor) -> network key in superres.MODELS
NETWORKS = {
    ("photo", 4): "photo-x4",
    ("photo", 2): "photo-x4",  # x4 then 2x2 area average: better than any x2 photo model we have
    ("art", 4): "art-x4",
    ("art", 2): "art-x2",
}


def tile_settings(network_key: str = "") -> tuple[int, int]:
    """(tile, pad) for a network; ``ENHANCER_TILE`` / ``ENHANCER_TILE_PAD`` override."""
    tile, pad = TILES.get(network_key, (DEFAULT_TILE, DEFAULT_PAD))
    if network_key in ("photo-x4", "anime-x4") and superres.runtime_name() == "ncnn":
        tile, pad = NCNN_RRDB_TILE
    tile = int(os.environ.get("ENHANCER_TILE", tile))
    pad = int(os.environ.get("ENHANCER_TILE_PAD", pad))
    return max(16, tile), max(0, pad)


def clean_params(params: dict) -> dict:
    params = dict(params)
    factor = params.pop("factor", 4)
    kind = params.pop("kind", "photo")
    if params:
        raise EnhancerError(
            EnhancerError.BAD_PARAMS,
            f"Unknown upscale parameters: {', '.join(sorted(map(str, params)))}; "
            "use factor and kind.",
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
    return {"factor": factor, "kind": kind.strip().lower()}


def unavailable_reason() -> str | None:
    for key in sorted(set(NETWORKS.values())):
        reason = superres.missing_reason(key)
        if reason:
            return reason
    return None


def _tiles(length: int, tile: int) -> list[tuple[int, int]]:
    count = max(1, math.ceil(length / tile))
    # Even split: no thin last strip that would cost a whole padded tile for a few pixels. Every
    # tile has the same size (the last one overlaps its neighbour instead of being shorter):
    # onnxruntime keeps a memory plan per input shape, and mixed shapes grew a 512 px job's
    # peak RSS from 1.6 to 2.3 GB.
    step = math.ceil(length / count)
    return [
        (min(index * step, length - step), min(index * step, length - step) + step)
        for index in range(count)
    ]


def run_tiled(
    rgb: np.ndarray,
    network,
    factor: int,
    tile: int = DEFAULT_TILE,
    pad: int = DEFAULT_PAD,
    progress: Progress = ignore,
) -> np.ndarray:
    """(H, W, 3) float32 in [0, 1] -> (factor*H, factor*W, 3) float32 in [0, 1].

    ``network.run`` maps a tile to ``network.scale`` times its size; when that is larger than
    ``factor`` the result is area-averaged down (an integer ratio, so exact per tile).
    """
    height, width = rgb.shape[:2]
    scale = network.scale
    if scale % factor:
        raise ValueError(f"network scale {scale} is not a multiple of factor {factor}")
    shrink = scale // factor
    padded = cv2.copyMakeBorder(
        np.ascontiguousarray(rgb, dtype=np.float32), pad, pad, pad, pad, cv2.BORDER_REFLECT_101
    )
    out = np.empty((height * factor, width * factor, 3), np.float32)
    rows, cols = _tiles(height, tile), _tiles(width, tile)
    total, done = len(rows) * len(cols), 0
    progress(0.0)
    for y0, y1 in rows:
        for x0, x1 in cols:
            piece = padded[y0 : y1 + 2 * pad, x0 : x1 + 2 * pad]
            result = network.run(piece)
            core = result[
                pad * scale : (pad + y1 - y0) * scale, pad * scale : (pad + x1 - x0) * scale
            ]
            if shrink > 1:
                core = cv2.resize(
                    np.ascontiguousarray(core),
                    ((x1 - x0) * factor, (y1 - y0) * factor),
                    interpolation=cv2.INTER_AREA,
                )
            np.clip(core, 0.0, 1.0, out=out[y0 * factor : y1 * factor, x0 * factor : x1 * factor])
            done += 1
            progress(done / total)
    return out


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


def upscale(
    picture: Picture,
    factor: int = 4,
    kind: str = "photo",
    progress: Progress = ignore,
    tile: int | None = None,
    pad: int | None = None,
) -> Picture:
    key = NETWORKS[(kind, factor)]
    default_tile, default_pad = tile_settings(key)
    tile = default_tile if tile is None else tile
    pad = default_pad if pad is None else pad
    network = superres.load(key)
    rgb = run_tiled(picture.rgb, network, factor, tile, pad, progress)
    alpha = upscale_alpha(picture.alpha, factor) if picture.alpha is not None else None
    # Built directly (not with_rgb) so the big output array is not copied again.
    return Picture(rgb, alpha, picture.bit_depth, picture.format, dict(picture.info))


def run(picture: Picture, params: dict, progress: Progress = ignore):
    from .operations import Result

    params = clean_params(params)
    resolved = upscale(picture, params["factor"], params["kind"], progress)
    network = superres.load(NETWORKS[(params["kind"], params["factor"])])
    return Result(
        {"resolved": resolved},
        {
            "factor": params["factor"],
            "kind": params["kind"],
            "model": superres.MODELS[NETWORKS[(params["kind"], params["factor"])]].name,
            "runtime": network.runtime,
            "width": resolved.width,
            "height": resolved.height,
        },
    )
