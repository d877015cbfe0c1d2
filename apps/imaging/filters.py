"""Small image filters shared by several operations."""

from __future__ import annotations

import cv2
import numpy as np


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter with a grey guide: edge-aware smoothing of ``src``."""
    size = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, cv2.CV_32F, size, borderType=cv2.BORDER_REFLECT)

    mean_i, mean_p = box(guide), box(src)
    cov_ip = box(guide * src) - mean_i * mean_p
    var_i = box(guide * guide) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box(a) * guide + box(b)


def min_filter(image: np.ndarray, size: int) -> np.ndarray:
    return cv2.erode(image, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))


def resize_to_pixels(image: np.ndarray, max_pixels: int) -> tuple[np.ndarray, float]:
    """Downscale (area) so the image has at most ``max_pixels``; returns it and the scale used."""
    height, width = image.shape[:2]
    scale = min(1.0, (max_pixels / (height * width)) ** 0.5)
    if scale >= 1.0:
        return image, 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale
