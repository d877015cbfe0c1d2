"""Hostile files and request values, shared by the fuzzing tests."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from hypothesis import strategies as st
from PIL import Image

from tests.helpers import fixtures_dir, image_bytes


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes whose header claims ``width`` x ``height`` pixels (a bomb's header)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", pixels)
            + _png_chunk(b"IEND", b""))


def png_bomb(side: int = 8_000) -> bytes:
    """A real, valid PNG of side² black pixels, compressed to a few hundred kB."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # greyscale
    compressor = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", body)
            + _png_chunk(b"IEND", b""))


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header is rewritten to claim other dimensions."""
    data = bytearray(image_bytes(64, 64, "JPEG"))
    marker = data.index(b"\xff\xc0")
    data[marker + 5:marker + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.jpg", image_bytes(64, 64, "JPEG"))
    return buffer.getvalue()


def gif_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buffer, "GIF")
    return buffer.getvalue()


def tiff_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buffer, "TIFF")
    return buffer.getvalue()


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="4000" height="4000">'
       b'<script>alert(1)</script><rect width="4000" height="4000"/></svg>')
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"

# name → (bytes, what the decoder must call it). Each is uploaded as "photo.jpg".
HOSTILE_FILES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "empty": (b"", ("empty_image",)),
    "html-renamed-jpg": (HTML, ("not_an_image",)),
    "svg-renamed-jpg": (SVG, ("not_an_image",)),
    "zip-renamed-jpg": (zip_bytes(), ("not_an_image",)),
    "gif": (gif_bytes(), ("unsupported_format",)),
    "tiff": (tiff_bytes(), ("unsupported_format",)),
    "truncated-jpeg": (image_bytes(256, 256, "JPEG")[:600], ("not_an_image",)),
    "truncated-png": (image_bytes(256, 256, "PNG")[:400], ("not_an_image",)),
    "png-header-claims-2-gigapixels": (png_claiming(50_000, 40_000), ("too_many_pixels",)),
    "jpeg-header-claims-65000x65000": (jpeg_claiming(65_000, 65_000), ("too_many_pixels",)),
    "png-long-thin-30000x60": (png_claiming(30_000, 60), ("image_too_large", "not_an_image")),
    "png-bomb-64-megapixels": (png_bomb(), ("too_many_pixels",)),
    "png-too-small-8x8": (image_bytes(8, 8, "PNG"), ("image_too_small",)),
}


def seed_images() -> list[bytes]:
    """Real photos (the small shared fixtures) and every accepted format, to mutate."""
    seeds = [image_bytes(64, 48, fmt) for fmt in ("JPEG", "PNG", "BMP", "WEBP")]
    seeds.append(image_bytes(64, 48, "PNG", mode="RGBA"))
    seeds.append(image_bytes(64, 48, "PNG", mode="I;16"))
    for name in ("photos/lowres_0014.jpg", "photos/baboon_lq.png"):
        path = fixtures_dir() / name
        if path.exists():
            seeds.append(path.read_bytes())
    return seeds


@st.composite
def mutated_images(draw) -> bytes:
    """A real image truncated, with bytes flipped, inserted or cut, or its header spliced."""
    data = bytearray(draw(st.sampled_from(seed_images())))
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["truncate", "flip", "insert", "cut", "header"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if action == "truncate":
            data = data[:at]
        elif action == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif action == "cut":
            del data[at:at + draw(st.integers(1, 256))]
        else:  # a header field rewritten: sizes, depths and lengths live in the first bytes
            offset = draw(st.integers(0, min(len(data), 64)))
            data[offset:offset + 4] = draw(st.binary(min_size=4, max_size=4))
    return bytes(data)


any_bytes = st.one_of(
    mutated_images(),
    st.binary(max_size=2048),
    st.sampled_from([value for value, _ in HOSTILE_FILES.values()]),
)

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
    st.text(max_size=20),
)
# Any JSON value, a few levels deep.
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def maybe(strategy):
    """Plausible values mixed with any JSON at all: every wrong type and range gets its turn."""
    return st.one_of(strategy, json_values)
