"""The in-memory image every operation works on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


@dataclass
class Picture:
    """sRGB pixels as float32 in [0, 1], shape (H, W, 3); alpha (H, W) in [0, 1] or None.

    ``bit_depth`` and ``format`` remember the source so the encoder can keep 16-bit PNGs 16-bit
    and answer a JPEG with a JPEG.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    bit_depth: int = 8
    format: str = "PNG"
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rgb.ndim != 3 or self.rgb.shape[2] != 3:
            raise ValueError(f"rgb must be (H, W, 3), got {self.rgb.shape}")
        if self.alpha is not None and self.alpha.shape != self.rgb.shape[:2]:
            raise ValueError("alpha must match the rgb plane")

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    def with_rgb(self, rgb: np.ndarray, alpha: np.ndarray | None = None) -> Picture:
        """A copy with new pixels; alpha is kept unless the size changed (then pass it)."""
        if alpha is None and self.alpha is not None and rgb.shape[:2] == self.rgb.shape[:2]:
            alpha = self.alpha
        return replace(self, rgb=np.clip(rgb, 0.0, 1.0).astype(np.float32, copy=False), alpha=alpha)

    def rgb8(self) -> np.ndarray:
        return to_uint8(self.rgb)


def to_uint8(values: np.ndarray, rows_per_chunk: int = 256) -> np.ndarray:
    """[0, 1] floats to uint8, a band of rows at a time: whole-array temporaries of an 8000x8000
    upscale result would cost 768 MB each, the uint8 result only 192 MB."""
    out = np.empty(values.shape, np.uint8)
    for start in range(0, values.shape[0], rows_per_chunk):
        band = np.clip(values[start : start + rows_per_chunk], 0.0, 1.0) * 255.0
        band += 0.5
        out[start : start + rows_per_chunk] = band
    return out


def from_uint8(values: np.ndarray) -> np.ndarray:
    return values.astype(np.float32) / 255.0
