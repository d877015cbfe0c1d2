"""Black-and-white detection: greyscale and toned (sepia) photos are bw, colour photos are not."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from apps.imaging import bw, codec
from apps.imaging.picture import Picture
from tests.helpers import fixtures_dir

COLOUR = [
    "photos/hazy_canon.bmp",
    "photos/hazy_forest.jpg",
    "photos/baboon_gt.png",
    "photos/alpha_children.png",
    "photos/lowres_0014.jpg",
    "faces/obama.jpg",
]


def _load(relative: str) -> Picture:
    path = fixtures_dir() / relative
    if not path.exists():
        pytest.skip(
            f"fixture image {path} is absent (set ENHANCER_FIXTURES to the shared fixtures)"
        )
    return codec.decode(path.read_bytes())


def _sepia(picture: Picture) -> Picture:
    grey = picture.rgb.mean(axis=2)
    return picture.with_rgb(np.stack([grey * 1.07 + 0.03, grey * 0.95 + 0.01, grey * 0.75], 2))


def _jpeg(picture: Picture, quality: int = 75) -> Picture:
    buffer = io.BytesIO()
    Image.fromarray(picture.rgb8()).save(buffer, "JPEG", quality=quality)
    return codec.decode(buffer.getvalue())


def test_greyscale_fixture_is_bw():
    picture = _load("photos/gray_00017.png")
    assert bw.bw_score(picture) < 0.5
    assert bw.is_bw(picture)


def test_sepia_toned_photos_are_bw():
    for relative in ("photos/gray_00017.png", "photos/baboon_gt.png", "faces/obama.jpg"):
        toned = _sepia(_load(relative))
        assert bw.is_bw(toned), relative
        assert bw.is_bw(_jpeg(toned)), f"{relative} as JPEG"


@pytest.mark.parametrize("relative", COLOUR)
def test_colour_photos_are_not_bw(relative):
    assert not bw.is_bw(_load(relative))


def test_synthetic_cases():
    rng = np.random.default_rng(0)
    grey = rng.random((120, 160, 1), dtype=np.float32)
    assert bw.is_bw(Picture(np.repeat(grey, 3, axis=2)))
    # Different hues at the same lightness cannot be a tint: left half orange-ish, right half
    # blue-ish, both ramps over the same lightness range.
    ramp = np.linspace(0.2, 0.8, 120, dtype=np.float32)[:, None, None]
    colour = np.zeros((120, 160, 3), np.float32)
    colour[:, :80] = ramp * np.array([1.0, 0.6, 0.3], np.float32)
    colour[:, 80:] = ramp * np.array([0.3, 0.6, 1.0], np.float32)
    assert not bw.is_bw(Picture(colour))
    # Transparent pixels do not count.
    alpha = np.zeros((120, 160), np.float32)
    alpha[:, :80] = 1.0
    assert bw.is_bw(Picture(colour, alpha))
