"""Is this a black-and-white photo? Greyscale, and toned monochrome (sepia, cyanotype, selenium).

A toned print has colour, but only one hue that depends on lightness (warm highlights, neutral
shadows). So we measure colour in CIE Lab *after removing the tint*: pixels are grouped by
lightness, each group's median (a, b) is taken as the tint at that lightness and subtracted.
What is left is smoothed by a 5x5 median (JPEG's subsampled chroma rings around edges; real
colour covers areas) and its 95th percentile, in Lab units, is the score. A colour photo keeps
a lot; a monochrome one keeps only noise and compression artefacts.
"""

from __future__ import annotations

import cv2
import numpy as np

from .filters import resize_to_pixels
from .picture import Picture

# Residual chroma (95th percentile, Lab units) at or below which a photo is black-and-white.
# Measured on the shared fixtures: greyscale 0.02–0.05; sepia / cyanotype toned 0.2–1.1, the same
# saved as JPEG q=75 1.2–3.8; colour photos 5.6 (hazy_canon, pale haze) to 64.
BW_THRESHOLD = 4.5
WORK_PIXELS = 120_000
LIGHTNESS_BINS = 20


def bw_score(picture: Picture) -> float:
    """Residual chroma after removing a lightness-dependent tint; ~0 for monochrome."""
    rgb, _ = resize_to_pixels(picture.rgb, WORK_PIXELS)
    lab = cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.float32), cv2.COLOR_RGB2LAB)
    lightness = lab[:, :, 0]
    chroma = lab[:, :, 1:]
    weight = np.ones(lightness.shape, bool)
    if picture.alpha is not None:
        alpha, _ = resize_to_pixels(picture.alpha, WORK_PIXELS)
        if (alpha > 0.5).sum() >= 64:
            weight &= alpha > 0.5
    # Near black and near white, chroma means little (and clips); judge the mid-tones.
    mid = weight & (lightness > 4) & (lightness < 97)
    if mid.sum() >= 64:
        weight = mid
    bins = np.minimum((lightness / 100.0 * LIGHTNESS_BINS).astype(np.int32), LIGHTNESS_BINS - 1)
    residual = np.zeros_like(chroma)
    for index in np.unique(bins[weight]):
        members = bins == index
        tint = np.median(chroma[members & weight], axis=0)
        residual[members] = chroma[members] - tint
    for channel in (0, 1):
        residual[:, :, channel] = cv2.medianBlur(np.ascontiguousarray(residual[:, :, channel]), 5)
    spread = np.linalg.norm(residual, axis=2)[weight]
    return float(np.percentile(spread, 95)) if spread.size else 0.0


def is_bw(picture: Picture) -> bool:
    return bw_score(picture) <= BW_THRESHOLD
