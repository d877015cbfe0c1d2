"""Image-quality helpers for the imaging tests: fixture loading, PSNR, SSIM, degradations."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from apps.imaging import codec
from apps.imaging.picture import Picture
from tests.helpers import fixtures_dir


def fixture_picture(relative: str) -> Picture:
    path = fixtures_dir() / relative
    if not path.exists():
        pytest.skip(f"fixture image {path} is absent (set ENHANCER_FIXTURES to the shared fixtures)")
    return codec.decode(path.read_bytes())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((np.clip(a, 0, 1) - np.clip(b, 0, 1)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Wang et al.'s SSIM on grey, 11x11 Gaussian window (sigma 1.5)."""
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


def add_noise(rgb: np.ndarray, sigma255: float = 15.0, seed: int = 0) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, sigma255 / 255.0, rgb.shape)
    return np.clip(rgb + noise, 0, 1).astype(np.float32)


def jpeg(rgb: np.ndarray, quality: int = 15) -> np.ndarray:
    bgr8 = (np.clip(rgb[:, :, ::-1], 0, 1) * 255 + 0.5).astype(np.uint8)
    ok, buffer = cv2.imencode(".jpg", bgr8, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(buffer, cv2.IMREAD_COLOR)[:, :, ::-1].astype(np.float32) / 255.0


def blur_downscale(rgb: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Blur, halve (area), bring back to size (bicubic): a soft, detail-poor photo."""
    height, width = rgb.shape[:2]
    small = cv2.resize(
        cv2.GaussianBlur(rgb, (0, 0), sigma), (width // 2, height // 2), interpolation=cv2.INTER_AREA
    )
    return np.clip(cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC), 0, 1)


def scratch(rgb: np.ndarray) -> np.ndarray:
    """Two thin scratches (one bright, one dark) and four dust specks."""
    out = rgb.copy()
    height, width = rgb.shape[:2]
    cv2.line(out, (5, height // 6), (width - 10, height - 30), (1.0, 1.0, 1.0), 1)
    cv2.line(out, (width // 5, height - 3), (width - 40, 4), (0.03, 0.03, 0.03), 1)
    for x, y in ((0.15, 0.2), (0.4, 0.6), (0.8, 0.25), (0.7, 0.85)):
        cv2.circle(out, (int(x * width), int(y * height)), 2, (0.97, 0.97, 0.97), -1)
    return out
