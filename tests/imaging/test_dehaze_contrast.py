"""Quality of dehaze and contrast against ground truth.

Haze is synthesised on clear photos with the atmospheric scattering model
I = J t + A (1 - t), t = exp(-1.2 (1 - depth)), depth running from 0 (top, far) to 1 (bottom),
A = (0.85, 0.87, 0.90). Contrast damage is a flat, a dark and a bright tone curve.

Measured (PSNR dB / SSIM on grey, versus the clear photo):

    dehaze     baboon_gt  hazy 11.8 / 0.757  ->  dehazed 18.3 / 0.941
               obama      hazy 12.1 / 0.712  ->  dehazed 25.3 / 0.965
    contrast   baboon_gt  flat 14.7 / 0.60 -> 16.2 / 0.95   dark 10.9 / 0.49 -> 17.2 / 0.86
                          bright 7.9 / 0.60 -> 15.4 / 0.91
               obama      flat 13.2 / 0.63 -> 16.1 / 0.79   dark 12.1 / 0.50 -> 19.2 / 0.88
                          bright 7.0 / 0.53 -> 14.1 / 0.72

The thresholds below sit safely under those numbers: a regression that halves the gain fails.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from apps.imaging import codec, contrast, dehaze, operations
from apps.imaging.picture import Picture
from tests.helpers import fixtures_dir
from tests.imaging.helpers import psnr, ssim

CLEAR = ["photos/baboon_gt.png", "faces/obama.jpg"]


def _clear(relative: str) -> np.ndarray:
    path = fixtures_dir() / relative
    if not path.exists():
        pytest.skip(
            f"fixture image {path} is absent (set ENHANCER_FIXTURES to the shared fixtures)"
        )
    return codec.decode(path.read_bytes()).rgb


def _hazy(clear: np.ndarray) -> np.ndarray:
    height, width = clear.shape[:2]
    depth = np.repeat(np.linspace(0, 1, height, dtype=np.float32)[:, None], width, axis=1)
    t = np.exp(-1.2 * (1 - depth))[:, :, None]
    airlight = np.array([0.85, 0.87, 0.90], np.float32)
    return (clear * t + airlight * (1 - t)).astype(np.float32)


@pytest.mark.parametrize("relative", CLEAR)
def test_dehaze_brings_synthetic_haze_back_towards_ground_truth(relative):
    clear = _clear(relative)
    hazy = _hazy(clear)
    result = operations.run("dehaze", Picture(hazy), {}, lambda _f: None)
    dehazed = result.outputs["dehazed"].rgb
    assert dehazed.shape == clear.shape
    assert psnr(dehazed, clear) > psnr(hazy, clear) + 5.0
    assert ssim(dehazed, clear) > max(0.9, ssim(hazy, clear) + 0.1)


def test_dehaze_real_hazy_photo_gains_contrast(fixture_path):
    picture = codec.decode(fixture_path("photos/hazy_forest.jpg").read_bytes())
    dehazed = dehaze.dehaze(picture)
    before = dehaze.dark_channel(picture.rgb, 15).mean()
    after = dehaze.dark_channel(dehazed.rgb, 15).mean()
    assert after < before * 0.7
    assert dehazed.rgb.std() > picture.rgb.std()


def test_dehaze_keeps_alpha():
    rgb = np.full((80, 100, 3), 0.7, np.float32)
    alpha = np.linspace(0, 1, 8000, dtype=np.float32).reshape(80, 100)
    out = dehaze.dehaze(Picture(rgb, alpha))
    np.testing.assert_array_equal(out.alpha, alpha)


CURVES = {
    "flat": lambda x: 0.35 + 0.3 * x,
    "dark": lambda x: 0.45 * x**1.3,
    "bright": lambda x: 0.55 + 0.45 * x**0.7,
}


@pytest.mark.parametrize("relative", CLEAR)
@pytest.mark.parametrize("curve", sorted(CURVES))
def test_contrast_brings_damaged_tones_back_towards_ground_truth(relative, curve):
    clear = _clear(relative)
    damaged = np.clip(CURVES[curve](clear), 0, 1).astype(np.float32)
    fixed = operations.run("contrast", Picture(damaged), {}, lambda _f: None).outputs["contrasted"]
    assert psnr(fixed.rgb, clear) > psnr(damaged, clear) + 1.0
    assert ssim(fixed.rgb, clear) > ssim(damaged, clear) + 0.08


def test_contrast_leaves_hue_alone_and_keeps_alpha():
    rng = np.random.default_rng(3)
    rgb = (0.4 + 0.2 * rng.random((90, 120, 3))).astype(np.float32)
    alpha = np.ones((90, 120), np.float32) * 0.5
    out = contrast.enhance(Picture(rgb, alpha))
    np.testing.assert_array_equal(out.alpha, alpha)
    hue_in = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)[:, :, 0]
    hue_out = cv2.cvtColor(out.rgb, cv2.COLOR_RGB2HSV)[:, :, 0]
    difference = np.abs(hue_in - hue_out)
    assert np.median(np.minimum(difference, 360 - difference)) < 10
