"""Decode untrusted bytes into a Picture, and encode Pictures back to files.

Every limit is checked before pixels are decoded, so a decompression bomb costs a header read.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .errors import EnhancerError, gettext_noop
from .picture import Picture, from_uint8, to_uint8

# Pillow's format names we accept; MPO is what Pillow calls many phone JPEGs.
ACCEPTED_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "BMP": "BMP", "WEBP": "WEBP"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50 * 1024 * 1024
    max_pixels: int = 50_000_000
    min_side: int = 48
    max_side: int = 20_000


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int
    has_alpha: bool
    bit_depth: int

    @property
    def decoded_bytes(self) -> int:
        """What its pixels take once decoded: width × height × bytes per pixel (channels ×
        bytes per sample). A 381 KB 7000x7000 16-bit RGBA PNG is 392 MB of pixels."""
        channels = 4 if self.has_alpha else 3
        return self.width * self.height * channels * (2 if self.bit_depth > 8 else 1)

    @property
    def cost_weight(self) -> float:
        """Its pixels' cost relative to a plain 8-bit RGB photo of the same size."""
        return self.decoded_bytes / (self.width * self.height * 3)

    def as_dict(self) -> dict:
        return {
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "has_alpha": self.has_alpha,
            "bit_depth": self.bit_depth,
        }


def _open(data: bytes, limits: Limits) -> Image.Image:
    if not data:
        raise EnhancerError(EnhancerError.EMPTY_IMAGE, gettext_noop("The file is empty."))
    if len(data) > limits.max_bytes:
        raise EnhancerError(
            EnhancerError.FILE_TOO_LARGE,
            gettext_noop("The file is %(size)s MB; the limit is %(limit)s MB."),
            {"size": f"{len(data) / 2**20:.1f}", "limit": f"{limits.max_bytes / 2**20:.0f}"},
        )
    try:
        with warnings.catch_warnings():
            # Our own pixel limit below is stricter; Pillow's warning would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise EnhancerError(
            EnhancerError.TOO_MANY_PIXELS,
            gettext_noop(
                "The image claims far more pixels than allowed; the limit is %(limit)s megapixels."
            ),
            {"limit": f"{limits.max_pixels / 1e6:.0f}"},
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise EnhancerError(
            EnhancerError.NOT_AN_IMAGE, gettext_noop("The file is not an image we can read.")
        ) from None
    if image.format not in ACCEPTED_FORMATS:
        raise EnhancerError(
            EnhancerError.UNSUPPORTED_FORMAT,
            gettext_noop("%(format)s images are not supported; send JPEG, PNG, BMP or WebP."),
            {"format": str(image.format)},
        )
    width, height = image.size
    if width * height > limits.max_pixels:
        raise EnhancerError(
            EnhancerError.TOO_MANY_PIXELS,
            gettext_noop("The image has %(size)s megapixels; the limit is %(limit)s."),
            {"size": f"{width * height / 1e6:.1f}", "limit": f"{limits.max_pixels / 1e6:.0f}"},
        )
    if max(width, height) > limits.max_side:
        raise EnhancerError(
            EnhancerError.IMAGE_TOO_LARGE,
            gettext_noop("The image is %(width)sx%(height)s; no side may exceed %(limit)s px."),
            {"width": width, "height": height, "limit": limits.max_side},
        )
    if min(width, height) < limits.min_side:
        raise EnhancerError(
            EnhancerError.IMAGE_TOO_SMALL,
            gettext_noop(
                "The image is %(width)sx%(height)s; each side must be at least %(limit)s px."
            ),
            {"width": width, "height": height, "limit": limits.min_side},
        )
    return image


def _png_bit_depth(data: bytes) -> int:
    # IHDR is always the first chunk: signature(8) + length(4) + type(4) + w(4) + h(4) + depth(1).
    if data.startswith(_PNG_SIGNATURE) and len(data) > 24:
        return data[24]
    return 8


def probe(data: bytes, limits: Limits) -> ImageInfo:
    """What the header says (limits checked, no pixel decoded): enough to cost the decode.
    Sides as stored: reading the orientation may read the whole file (a PNG's eXIf chunk can
    follow its pixels), and a quarter turn does not change the cost."""
    return _info(_open(data, limits), data, oriented=False)


def inspect(data: bytes, limits: Limits) -> ImageInfo:
    """Check limits and decode fully (a truncated file fails here), returning what it is."""
    return _info(_load(data, limits), data)


def _info(image: Image.Image, data: bytes, oriented: bool = True) -> ImageInfo:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    depth = 16 if _png_bit_depth(data) == 16 or image.mode.startswith("I") else 8
    width, height = image.size
    if oriented and _has_rotation(image):  # turned a quarter: the sides swap
        width, height = height, width
    return ImageInfo(ACCEPTED_FORMATS[image.format], width, height, has_alpha, depth)


def _has_rotation(image: Image.Image) -> bool:
    return image.getexif().get(0x0112, 1) in (5, 6, 7, 8)


def _load(data: bytes, limits: Limits) -> Image.Image:
    return _read_pixels(_open(data, limits))


def _read_pixels(image: Image.Image) -> Image.Image:
    try:
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError):
        raise EnhancerError(
            EnhancerError.NOT_AN_IMAGE, gettext_noop("The image file is corrupt or truncated.")
        ) from None
    return image


def decode(data: bytes, limits: Limits | None = None) -> Picture:
    limits = limits or Limits()
    image = _open(data, limits)
    source_format = ACCEPTED_FORMATS[image.format]
    if source_format == "PNG" and _png_bit_depth(data) == 16 and image.mode not in ("I", "I;16"):
        # Pillow narrows 16-bit colour PNGs to 8 bits; OpenCV keeps all 16, and reads the
        # pixels alone (Pillow reading them first cost a second decode and its copy).
        return _decode_png16(data, source_format)
    image = ImageOps.exif_transpose(_read_pixels(image))
    bit_depth = 8
    if image.mode in ("I", "I;16", "I;16B", "I;16L"):
        grey = np.asarray(image, dtype=np.float32) / 65535.0
        return Picture(np.repeat(grey[:, :, None], 3, axis=2), None, 16, source_format)
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("1", "L", "LA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX", "PA", "F"):
        has_alpha = image.mode in ("LA", "PA")
        image = image.convert("RGBA" if has_alpha else "RGB")
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA")
    icc = image.info.get("icc_profile")
    if icc:
        image = _to_srgb(image, icc)
    pixels = np.asarray(image)
    alpha = from_uint8(pixels[:, :, 3]) if image.mode == "RGBA" else None
    return Picture(from_uint8(pixels[:, :, :3]), alpha, bit_depth, source_format)


def _to_srgb(image: Image.Image, icc: bytes) -> Image.Image:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        alpha = image.getchannel("A") if image.mode == "RGBA" else None
        converted = ImageCms.profileToProfile(image.convert("RGB"), source, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile is not worth refusing the photo; assume sRGB
    if alpha is not None:
        converted.putalpha(alpha)
    return converted


def _decode_png16(data: bytes, source_format: str) -> Picture:
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None:
        raise EnhancerError(
            EnhancerError.NOT_AN_IMAGE, gettext_noop("The image file is corrupt or truncated.")
        )
    scale = np.float32(1.0 / (65535.0 if array.dtype == np.uint16 else 255.0))

    def floats(channels: np.ndarray) -> np.ndarray:
        # One float copy per result, scaled in place: a whole-array float copy of a 7000x7000
        # RGBA photo would be another 784 MB on top of the results.
        out = channels.astype(np.float32, order="C")
        out *= scale
        return out

    if array.ndim == 2:
        return Picture(np.repeat(floats(array)[:, :, None], 3, axis=2), None, 16, source_format)
    if array.shape[2] == 2:  # grey + alpha
        grey, alpha = floats(array[:, :, 0]), floats(array[:, :, 1])
        return Picture(np.repeat(grey[:, :, None], 3, axis=2), alpha, 16, source_format)
    rgb = floats(array[:, :, 2::-1]) if array.shape[2] >= 3 else floats(array)
    alpha = floats(array[:, :, 3]) if array.shape[2] == 4 else None
    return Picture(rgb, alpha, 16, source_format)


def output_format(picture: Picture) -> str:
    """A JPEG stays a JPEG; anything with alpha or 16 bits, or any other source, becomes PNG."""
    if picture.format == "JPEG" and picture.alpha is None and picture.bit_depth == 8:
        return "JPEG"
    return "PNG"


def encode(picture: Picture, fmt: str | None = None, quality: int = 92) -> bytes:
    """Encode without any metadata: no EXIF (so no GPS), only pixels (and alpha)."""
    fmt = (fmt or output_format(picture)).upper()
    if fmt == "PNG" and picture.bit_depth == 16:
        return _encode_png16(picture)
    rgb = to_uint8(picture.rgb)
    if fmt == "PNG":
        if picture.alpha is not None:
            image = Image.fromarray(np.dstack([rgb, to_uint8(picture.alpha)]), "RGBA")
        else:
            image = Image.fromarray(rgb, "RGB")
        buffer = io.BytesIO()
        # zlib level 3: a 16 MP upscale in 1.5 s and 6 % larger than level 6, which took 4.7 s
        # (a tenth of a 1 MP x4 job); level 1 saved 0.5 s more for 11 %.
        image.save(buffer, "PNG", compress_level=3)
        return buffer.getvalue()
    if fmt == "JPEG":
        return _save_jpeg(rgb, quality)
    raise EnhancerError(
        EnhancerError.BAD_PARAMS, gettext_noop("Cannot encode %(format)s; use JPEG or PNG."),
        {"format": str(fmt)},
    )


def _save_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    buffer = io.BytesIO()
    # Huffman optimisation keeps every DCT coefficient in memory (~380 MB for an 8000x8000
    # upscale) to save ~5 % of the file: only worth it below 16 MP.
    Image.fromarray(rgb, "RGB").save(
        buffer,
        "JPEG",
        quality=quality,
        optimize=rgb.shape[0] * rgb.shape[1] <= 16_000_000,
        subsampling=0 if quality >= 90 else 2,
    )
    return buffer.getvalue()


def _encode_png16(picture: Picture) -> bytes:
    rgb16 = (np.clip(picture.rgb, 0, 1) * 65535.0 + 0.5).astype(np.uint16)[:, :, ::-1]
    if picture.alpha is not None:
        alpha16 = (np.clip(picture.alpha, 0, 1) * 65535.0 + 0.5).astype(np.uint16)
        rgb16 = np.dstack([rgb16, alpha16])
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(rgb16))
    if not ok:
        raise EnhancerError(EnhancerError.INTERNAL, gettext_noop("PNG encoding failed."))
    return buffer.tobytes()


MIME_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png"}


def thumbnail(data: bytes, size: int = 320, limits: Limits | None = None) -> bytes:
    """A small sRGB JPEG preview (alpha flattened on white), oriented like the photo."""
    image = _open(data, limits or Limits())
    image.draft("RGB", (size * 2, size * 2))  # JPEG: decode at reduced scale, much faster
    try:
        # Pixels are first read here (draft skips the full load), so a corrupt body fails here.
        image = ImageOps.exif_transpose(image)
        if image.mode.startswith("I"):
            image = image.point(lambda value: value / 256).convert("L")
        image = image.convert("RGBA")
    except (OSError, SyntaxError, ValueError, EOFError):
        raise EnhancerError(
            EnhancerError.NOT_AN_IMAGE, gettext_noop("The image file is corrupt or truncated.")
        ) from None
    image.thumbnail((size, size), Image.Resampling.LANCZOS)
    flat = Image.new("RGB", image.size, (255, 255, 255))
    flat.paste(image, mask=image.getchannel("A"))
    buffer = io.BytesIO()
    flat.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def as_jpeg(data: bytes, quality: int = 92, rows_per_chunk: int = 256) -> bytes:
    """The picture as a JPEG, for surfaces whose documents promise JPEG (VK, Meitu).

    A JPEG comes back byte for byte. Anything else is one of our own outputs (trusted, possibly
    larger than the upload limits, so OpenCV decodes it without Pillow's bomb check): alpha is
    flattened onto white, since JPEG has no alpha channel, and 16 bits become 8. Flattening runs
    a band of rows at a time so a large upscale never needs a whole float copy.
    """
    if data[:3] == b"\xff\xd8\xff":
        return data
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None:
        raise EnhancerError(
            EnhancerError.NOT_AN_IMAGE, gettext_noop("The image file is corrupt or truncated.")
        )
    if array.ndim == 2:
        array = array[:, :, None]
    channels = array.shape[2]
    scale = 257.0 if array.dtype == np.uint16 else 1.0
    rgb = np.empty((array.shape[0], array.shape[1], 3), np.uint8)
    for start in range(0, array.shape[0], rows_per_chunk):
        band = array[start : start + rows_per_chunk].astype(np.float32) / scale
        colour = band[:, :, :1].repeat(3, axis=2) if channels < 3 else band[:, :, 2::-1]
        if channels in (2, 4):
            alpha = band[:, :, -1:] / 255.0
            colour = colour * alpha + 255.0 * (1.0 - alpha)
        rgb[start : start + rows_per_chunk] = np.clip(colour + 0.5, 0, 255)
    return _save_jpeg(rgb, quality)
