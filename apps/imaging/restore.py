"""The ``restore`` operation: measure what is wrong with a photo, repair only that.

``assess`` measures noise (robust sigma of the finest Haar diagonal band), JPEG blocking (pixel
steps across the 8x8 grid versus inside blocks), sharpness (variance of the Laplacian), the
share of pixels that look like scratches or dust (thin bright/dark lines and specks found by
morphological top-hats), colour cast and tonal range. When nothing crosses its threshold the
photo gets the gentlest correction instead of nothing (``assessment["gentle"]``): a person who
asks to restore a photo expects a restored photo, and the thresholds miss artifacts off the 8x8
grid (lowres_0014.jpg, the 179 px upscale example, rings around every edge after an earlier
JPEG save and a resize; it measures blockiness 1.01). Measured (bench/measure_restore_gentle.py;
PSNR dB against the clean picture, on crops made worse only below every threshold): half of the
network's restoration blended into the photo gains on a 128 px alpha_children crop (JPEG q50
29.37 -> 30.99, noise 4/255 36.11 -> 36.67, slight blur 28.33 -> 29.47) and loses where fine
texture is all there is (alpha16_tree foliage, noise 4/255: 36.38 -> 28.89); the full network
loses more (tree 23.19) and non-local means at strength 3 never gains (-0.2 to -2 dB). On the
179 px JPEG, which has no clean original, the half network visibly removes the ringing and
blocks (checked by eye) while the photo stays itself (24.8 dB, SSIM 0.91 from the input). So the
gentle step is the half network where the network runs (small photos) and light non-local means
(strength 3: 36.7-42 dB from a clean input, a faint clean-up) on bigger ones.
The photo is never returned unchanged as if it had been repaired.

Repairs, in order: inpaint scratches and specks (OpenCV Telea) -> non-local means for noise and
blocking (strength from the measured sigma / blockiness) -> gentle unsharp mask when soft ->
grey-world white balance and bounded levels when the cast or range is off.

Real-ESRGAN as the restoration backbone: x4 then an exact 4x4 area average back to the input
size, tile by tile. Measured on a 128 px crop of alpha_children.png (PSNR dB vs ground truth):
Gaussian noise sigma 15: input 24.87, best NLM 27.09, network 29.34; JPEG q15: input 25.89,
best NLM 26.01, network 26.94; blur+downscale: input 26.28, best unsharp mask 28.19, network
28.04. So the network replaces NLM for noise and blocking (and handles blur too) — but it costs
~0.2-0.6 s per thousand input pixels on 2 CPU cores, so it is used only up to
``NETWORK_MAX_PIXELS`` (``ENHANCER_RESTORE_NET_MAX_PIXELS``); bigger photos get NLM / unsharp.
"""

from __future__ import annotations

import cv2
import numpy as np

from . import networks
from .config import config
from .operation import Operation, Rate, Result, Work
from .picture import Picture
from .progress import Progress, ignore, scaled

# Thresholds, in 0..255 units where relevant; chosen from clean vs degraded fixture crops.
NOISE_SIGMA_MAX = 5.0
BLOCKINESS_MAX = 1.35
SHARPNESS_MIN = 800.0  # Laplacian variance of the grey image (0..255) below this reads as soft
SCRATCH_SHARE_MAX = 0.015  # clean fixture photos and crops measure 0.000-0.011
CAST_MAX = 40.0  # mean-chroma; photos of coloured scenes legitimately reach ~26
RANGE_MIN = 0.55  # 1..99 % lightness span, as a fraction of the full range

NETWORK_MAX_PIXELS = 300_000
NETWORK_KEY = "photo-x4"
GENTLE_NETWORK_SHARE = 0.5  # of the network's restoration blended into a photo that needed little
GENTLE_DENOISE_STRENGTH = 3.0

TOPHAT_SIZE = 7  # structures thinner than this (px) count as scratch / dust candidates
SCRATCH_CONTRAST = 0.18


def _grey255(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) * 255.0


def noise_sigma(grey: np.ndarray) -> float:
    """Noise sigma from the finest Haar diagonal band, read in the flattest blocks.

    The band holds noise plus fine texture; per 8x8 block (16x16 pixels) its RMS is at least
    the noise level, and the 10th percentile of the blocks picks smooth areas where it is only
    noise (fur or foliage everywhere would still read high, so thresholds stay moderate).
    """
    h, w = (grey.shape[0] // 32) * 32, (grey.shape[1] // 32) * 32
    if h == 0 or w == 0:
        return 0.0
    g = grey[:h, :w]
    diagonal = (g[0::2, 0::2] - g[0::2, 1::2] - g[1::2, 0::2] + g[1::2, 1::2]) / 2.0
    blocks = diagonal.reshape(h // 16, 8, w // 16, 8).transpose(0, 2, 1, 3).reshape(-1, 64)
    rms = np.sqrt((blocks**2).mean(axis=1))
    # p10 of the block RMS of pure noise is ~0.89 sigma (chi distribution, 64 samples).
    return float(np.percentile(rms, 10) / 0.89)


def blockiness(grey: np.ndarray) -> float:
    """Mean |step| across 8-pixel block borders divided by the mean |step| inside blocks."""
    dx = np.abs(np.diff(grey, axis=1))
    dy = np.abs(np.diff(grey, axis=0))
    cols = np.arange(dx.shape[1])
    rows = np.arange(dy.shape[0])
    border_x, border_y = (cols % 8) == 7, (rows % 8) == 7
    if not border_x.any() or not border_y.any():
        return 1.0
    across = dx[:, border_x].mean() + dy[border_y, :].mean()
    inside = dx[:, ~border_x].mean() + dy[~border_y, :].mean()
    return float(across / max(inside, 1e-6))


def sharpness(grey: np.ndarray) -> float:
    return float(cv2.Laplacian(grey, cv2.CV_32F, ksize=3).var())


def scratch_mask(rgb: np.ndarray) -> np.ndarray:
    """uint8 mask (255 = damaged) of thin bright/dark lines and small specks."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (TOPHAT_SIZE, TOPHAT_SIZE))
    bright = cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel)
    dark = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel)
    # Contrast relative to the local texture: fur or foliage has many small bright details, a
    # scratch on a smooth area stands out far above its surroundings.
    strength = np.maximum(bright, dark)
    local = cv2.GaussianBlur(strength, (0, 0), 8.0)
    candidate = (strength > SCRATCH_CONTRAST) & (strength > 5.0 * local)
    mask = candidate.astype(np.uint8) * 255
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = np.zeros(count, bool)
    for index in range(1, count):
        x, y, w, h, area = stats[index]
        length = max(w, h)
        thin_line = length >= 15 and area <= 2.5 * length  # long, at most ~2.5 px wide
        speck = area <= 30 and length <= 7
        keep[index] = thin_line or speck
    mask = (keep[labels] * 255).astype(np.uint8)
    return cv2.dilate(mask, np.ones((3, 3), np.uint8))


def colour_cast(rgb: np.ndarray) -> float:
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    return float(np.hypot(lab[:, :, 1].mean(), lab[:, :, 2].mean()))


def tonal_range(rgb: np.ndarray) -> float:
    lightness = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[:, :, 0] / 100.0
    low, high = np.percentile(lightness[::2, ::2], (1, 99))
    return float(high - low)


def assess(picture: Picture) -> dict:
    rgb = np.clip(picture.rgb, 0.0, 1.0)
    grey = _grey255(rgb)
    mask = scratch_mask(rgb)
    facts = {
        "noise_sigma": round(noise_sigma(grey), 3),
        "blockiness": round(blockiness(grey), 4),
        "sharpness": round(sharpness(grey), 2),
        "scratch_share": round(float((mask > 0).mean()), 5),
        "colour_cast": round(colour_cast(rgb), 3),
        "tonal_range": round(tonal_range(rgb), 4),
    }
    problems = {
        "noise": facts["noise_sigma"] > NOISE_SIGMA_MAX,
        "blocking": facts["blockiness"] > BLOCKINESS_MAX,
        "blur": facts["sharpness"] < SHARPNESS_MIN,
        "scratches": facts["scratch_share"] > SCRATCH_SHARE_MAX,
        "colour_cast": facts["colour_cast"] > CAST_MAX,
        "low_contrast": facts["tonal_range"] < RANGE_MIN,
    }
    facts["problems"] = sorted(name for name, bad in problems.items() if bad)
    facts["needs_repair"] = bool(facts["problems"])
    return facts


def _inpaint(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    rgb8 = (np.clip(rgb, 0, 1) * 255.0 + 0.5).astype(np.uint8)
    filled = cv2.inpaint(rgb8, mask, 3, cv2.INPAINT_TELEA).astype(np.float32) / 255.0
    return np.where(mask[:, :, None] > 0, filled, rgb)


def _denoise(rgb: np.ndarray, sigma: float, block: float) -> np.ndarray:
    # NLM filter strength tracks the measured sigma; JPEG blocking alone gets a floor strength.
    strength = max(sigma * 0.9, 6.0 if block > BLOCKINESS_MAX else 0.0)
    strength = float(min(strength, 25.0))
    rgb8 = (np.clip(rgb, 0, 1) * 255.0 + 0.5).astype(np.uint8)
    out = cv2.fastNlMeansDenoisingColored(rgb8, None, strength, strength * 0.8, 7, 21)
    # Keep the sub-8-bit precision of the input where the filter changed nothing.
    return rgb + (out.astype(np.float32) - rgb8.astype(np.float32)) / 255.0


def _sharpen(rgb: np.ndarray, amount: float = 0.6, radius: float = 1.2) -> np.ndarray:
    blurred = cv2.GaussianBlur(rgb, (0, 0), radius)
    return rgb + amount * (rgb - blurred)


def _white_balance(rgb: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    # Shift a/b towards neutral in proportion to lightness (grey world in Lab, Bianco-style).
    weight = lab[:, :, 0] / 100.0
    for channel in (1, 2):
        lab[:, :, channel] -= lab[:, :, channel].mean() * weight * 1.1
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def _levels(rgb: np.ndarray) -> np.ndarray:
    low, high = np.percentile(rgb[::2, ::2].reshape(-1, 3).mean(axis=1), (0.5, 99.5))
    span = max(high - low, 0.4)  # never stretch more than 2.5x
    return (rgb - low) / span


def network_max_pixels() -> int:
    forced = config().restore_net_max_pixels
    return NETWORK_MAX_PIXELS if forced is None else forced


def _use_network(pixels: int) -> bool:
    return pixels <= network_max_pixels() and networks.missing_reason(NETWORK_KEY) is None


def _network_restore(rgb: np.ndarray, progress: Progress) -> np.ndarray:
    from . import upscale

    tile, pad = upscale.tile_settings()
    # factor 1: each x4 tile is area-averaged 4x4 straight back to the input size.
    return upscale.run_tiled(rgb, networks.load(NETWORK_KEY), 1, tile, pad, progress)


def _gentle(picture: Picture, assessment: dict, progress: Progress) -> tuple[np.ndarray, list[str]]:
    """The least that still cleans: half of the network's restoration, or light non-local means."""
    rgb = np.clip(picture.rgb, 0.0, 1.0).astype(np.float32)
    if _use_network(picture.width * picture.height):
        restored = _network_restore(rgb, scaled(progress, 0.1, 0.9))
        return rgb + GENTLE_NETWORK_SHARE * (restored - rgb), ["gentle_network"]
    # _denoise filters at 0.9 x sigma: this sigma gives at least the gentle strength.
    sigma = max(assessment["noise_sigma"], GENTLE_DENOISE_STRENGTH / 0.9)
    return _denoise(rgb, sigma, 0.0), ["gentle_denoise"]


def restore(picture: Picture, progress: Progress = ignore) -> tuple[Picture, dict]:
    assessment = assess(picture)
    progress(0.1)
    assessment["gentle"] = not assessment["needs_repair"]
    if assessment["gentle"]:
        rgb, assessment["steps"] = _gentle(picture, assessment, progress)
        progress(0.9)
        return picture.with_rgb(rgb), assessment
    problems = set(assessment["problems"])
    rgb = np.clip(picture.rgb, 0.0, 1.0).astype(np.float32)
    steps = []
    if "scratches" in problems:
        rgb = _inpaint(rgb, scratch_mask(rgb))
        steps.append("inpaint")
    progress(0.3)
    if problems & {"noise", "blocking", "blur"} and _use_network(picture.width * picture.height):
        rgb = _network_restore(rgb, scaled(progress, 0.3, 0.8))
        steps.append("realesrgan")
    else:
        if problems & {"noise", "blocking"}:
            rgb = _denoise(rgb, assessment["noise_sigma"], assessment["blockiness"])
            steps.append("denoise")
        if "blur" in problems and "noise" not in problems:
            rgb = _sharpen(rgb, amount=1.0)
            steps.append("sharpen")
    progress(0.8)
    if "colour_cast" in problems:
        rgb = _white_balance(np.clip(rgb, 0, 1))
        steps.append("white_balance")
    if "low_contrast" in problems:
        rgb = _levels(rgb)
        steps.append("levels")
    progress(0.9)
    assessment["steps"] = steps
    return picture.with_rgb(rgb), assessment


def run(picture: Picture, _params: dict, progress: Progress = ignore) -> Result:
    improved, assessment = restore(picture, progress)
    return Result({"improved": improved}, {"assessment": assessment})


def work(_params: dict, pixels: int) -> Work:
    # restore decides on the network only after assessing the photo; whether it *may* use it
    # is known now, and that is what a worker slot must be reserved for.
    network = _use_network(pixels)
    return Work(heavy=network, key={"path": "network" if network else "classical"})


OPERATION = Operation(
    "restore", "Restore", run, outputs=("improved",), work=work,
    # The network path is Real-ESRGAN x4plus (upscale's photo x4 rate) on photos of at most
    # NETWORK_MAX_PIXELS.
    rates=(
        Rate(0.5, 4.0, {"path": "classical"}),
        Rate(5.0, networks.MODELS[NETWORK_KEY].float_rate, {"path": "network"},
             network=NETWORK_KEY),
    ),
)
