"""Decoding untrusted bytes and encoding results: formats, depth, alpha, metadata, limits."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageCms

from apps.imaging import codec
from apps.imaging.errors import EnhancerError
from apps.imaging.picture import Picture
from tests.helpers import fixtures_dir


def _fixture(relative: str) -> bytes:
    path = fixtures_dir() / relative
    if not path.exists():
        pytest.skip(
            f"fixture image {path} is absent (set ENHANCER_FIXTURES to the shared fixtures)"
        )
    return path.read_bytes()


def _save(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def _gradient(width=160, height=120) -> np.ndarray:
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    return np.dstack([x + 0 * y, y + 0 * x, 255 - (x + y) / 2]).astype(np.uint8)


def _decode_encode(data: bytes) -> tuple[Picture, Picture]:
    picture = codec.decode(data)
    return picture, codec.decode(codec.encode(picture))


# --------------------------------------------------------------------------- formats


def test_jpeg_round_trip():
    data = _save(Image.fromarray(_gradient()), "JPEG", quality=95)
    picture, again = _decode_encode(data)
    assert (picture.format, picture.bit_depth, picture.alpha) == ("JPEG", 8, None)
    assert picture.rgb.shape == (120, 160, 3) and picture.rgb.dtype == np.float32
    assert codec.output_format(picture) == "JPEG"
    assert np.abs(picture.rgb - again.rgb).mean() < 0.01


def test_png_8bit_is_lossless():
    pixels = _gradient()
    picture, again = _decode_encode(_save(Image.fromarray(pixels), "PNG"))
    np.testing.assert_array_equal(picture.rgb8(), pixels)
    np.testing.assert_array_equal(again.rgb8(), pixels)
    assert codec.output_format(picture) == "PNG"


def test_png_16bit_rgb_keeps_16_bits():
    import cv2

    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 65536, (64, 80, 3), dtype=np.uint16)
    ok, data = cv2.imencode(".png", pixels)
    picture, again = _decode_encode(data.tobytes())
    assert picture.bit_depth == 16 and again.bit_depth == 16
    expected = pixels[:, :, ::-1].astype(np.float32) / 65535
    assert np.abs(picture.rgb - expected).max() < 1e-6
    assert np.abs(again.rgb - expected).max() < 1e-6


def test_greyscale_png():
    grey = _gradient()[:, :, 0]
    picture, again = _decode_encode(_save(Image.fromarray(grey, "L"), "PNG"))
    assert picture.rgb.shape == (120, 160, 3)
    np.testing.assert_array_equal(picture.rgb8()[:, :, 1], grey)
    np.testing.assert_array_equal(again.rgb8()[:, :, 2], grey)


def test_greyscale_16bit_png():
    grey = (np.linspace(0, 65535, 160 * 120).reshape(120, 160)).astype(np.uint16)
    image = Image.fromarray(grey)  # mode I;16
    picture, again = _decode_encode(_save(image, "PNG"))
    assert picture.bit_depth == 16 and again.bit_depth == 16
    assert np.abs(picture.rgb[:, :, 0] - grey / 65535).max() < 1e-6


def test_greyscale_fixture():
    picture = codec.decode(_fixture("photos/gray_00017.png"))
    assert picture.rgb.shape == (351, 500, 3)
    assert np.array_equal(picture.rgb[:, :, 0], picture.rgb[:, :, 2])


def test_palette_png_with_transparency():
    image = Image.fromarray(_gradient()).quantize(16)
    image.info["transparency"] = 0
    picture, again = _decode_encode(_save(image, "PNG", transparency=0))
    assert picture.alpha is not None and again.alpha is not None
    assert set(np.unique(picture.alpha)) <= {0.0, 1.0} and picture.alpha.min() == 0.0
    np.testing.assert_array_equal(picture.alpha, again.alpha)


def test_palette_png_without_transparency():
    image = Image.fromarray(_gradient()).quantize(16)
    picture = codec.decode(_save(image, "PNG"))
    assert picture.alpha is None
    np.testing.assert_array_equal(picture.rgb8(), np.asarray(image.convert("RGB")))


def test_alpha_png_fixture_keeps_alpha():
    data = _fixture("photos/alpha_children.png")
    picture, again = _decode_encode(data)
    original = np.asarray(Image.open(io.BytesIO(data)))
    assert picture.alpha is not None and picture.bit_depth == 8
    np.testing.assert_array_equal((picture.alpha * 255 + 0.5).astype(np.uint8), original[:, :, 3])
    np.testing.assert_array_equal(again.alpha, picture.alpha)
    assert codec.output_format(picture) == "PNG"


def test_alpha_16bit_png_fixture_keeps_alpha_and_depth():
    import cv2

    data = _fixture("photos/alpha16_tree.png")
    picture, again = _decode_encode(data)
    assert picture.bit_depth == 16 and picture.alpha is not None
    assert again.bit_depth == 16 and again.alpha is not None
    raw = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint16
    assert np.abs(picture.alpha - raw[:, :, 3] / 65535).max() < 1e-6
    np.testing.assert_allclose(again.alpha, picture.alpha, atol=1e-6)
    np.testing.assert_allclose(again.rgb, picture.rgb, atol=1e-6)


def test_bmp_fixture():
    picture = codec.decode(_fixture("photos/hazy_canon.bmp"))
    assert picture.format == "BMP" and picture.rgb.shape == (600, 400, 3)
    assert codec.output_format(picture) == "PNG"
    assert codec.decode(codec.encode(picture)).format == "PNG"


def test_webp_lossless_and_with_alpha():
    pixels = _gradient()
    picture = codec.decode(_save(Image.fromarray(pixels), "WEBP", lossless=True))
    assert picture.format == "WEBP"
    np.testing.assert_array_equal(picture.rgb8(), pixels)
    alpha = np.full((120, 160), 255, np.uint8)
    alpha[:, :40] = 0
    rgba = Image.fromarray(np.dstack([pixels, alpha]), "RGBA")
    picture = codec.decode(_save(rgba, "WEBP", lossless=True))
    assert picture.alpha is not None and picture.alpha[:, :40].max() == 0.0
    assert codec.output_format(picture) == "PNG"


def test_unsupported_format_is_refused():
    data = _save(Image.fromarray(_gradient()), "GIF")
    with pytest.raises(EnhancerError) as error:
        codec.decode(data)
    assert error.value.code == EnhancerError.UNSUPPORTED_FORMAT


# --------------------------------------------------------------------------- metadata


def _exif_bytes(orientation: int | None = None, gps: bool = False) -> bytes:
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[0x8825] = {1: "N", 2: (55.0, 45.0, 0.0), 3: "E", 4: (37.0, 37.0, 0.0)}
    return exif.tobytes()


def test_exif_orientation_is_applied():
    pixels = np.zeros((100, 200, 3), np.uint8)
    pixels[:, :100] = (255, 0, 0)  # left half red
    data = _save(Image.fromarray(pixels), "JPEG", quality=95, exif=_exif_bytes(orientation=6))
    picture = codec.decode(data)
    # Orientation 6: rotate 90° clockwise for display — the red left half ends on top.
    assert (picture.height, picture.width) == (200, 100)
    assert picture.rgb[:90, :, 0].mean() > 0.9 and picture.rgb[110:, :, 0].mean() < 0.1
    info = codec.inspect(data, codec.Limits())
    assert (info.width, info.height) == (100, 200)


def test_icc_profile_is_converted_to_srgb():
    pixels = np.full((60, 80, 3), (200, 60, 60), np.uint8)
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    plain = codec.decode(_save(Image.fromarray(pixels), "PNG"))
    tagged = codec.decode(_save(Image.fromarray(pixels), "PNG", icc_profile=profile.tobytes()))
    # An sRGB profile converts to (nearly) itself...
    assert np.abs(plain.rgb - tagged.rgb).max() < 2 / 255
    # ...and a non-sRGB one changes the numbers (Adobe-like wide gamut: red is more saturated).
    wide_profile = _wide_gamut_profile()
    if wide_profile is None:
        pytest.skip("cannot build a wide-gamut ICC profile here")
    converted = codec.decode(_save(Image.fromarray(pixels), "PNG", icc_profile=wide_profile))
    assert np.abs(converted.rgb - plain.rgb).max() > 5 / 255
    # Red in a wider gamut is more saturated than the same numbers in sRGB.
    assert (
        converted.rgb[0, 0, 0] >= plain.rgb[0, 0, 0] and converted.rgb[0, 0, 1] < plain.rgb[0, 0, 1]
    )


def _wide_gamut_profile() -> bytes | None:
    """A minimal ICC v2 RGB matrix/TRC profile with Adobe RGB (1998) primaries, gamma 2.2."""

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + b"\0" * 4 + s15(x) + s15(y) + s15(z)

    def curve(gamma: float) -> bytes:
        return b"curv" + b"\0" * 4 + struct.pack(">I", 1) + struct.pack(">H", round(gamma * 256))

    def text(value: str) -> bytes:
        return b"text" + b"\0" * 4 + value.encode() + b"\0"

    def desc(value: str) -> bytes:
        raw = value.encode() + b"\0"
        return (
            b"desc"
            + b"\0" * 4
            + struct.pack(">I", len(raw))
            + raw
            + b"\0" * 4 * 2
            + b"\0" * 3
            + b"\0" * 67
        )

    tags = [
        (b"desc", desc("wide")),
        (b"cprt", text("none")),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.6097, 0.3111, 0.0195)),
        (b"gXYZ", xyz(0.2053, 0.6257, 0.0609)),
        (b"bXYZ", xyz(0.1492, 0.0632, 0.7446)),
        (b"rTRC", curve(2.2)),
        (b"gTRC", curve(2.2)),
        (b"bTRC", curve(2.2)),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        while len(data) % 4:
            data += b"\0"
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"none"
        + struct.pack(">I", 0x02100000)
        + b"mntr"
        + b"RGB "
        + b"XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 4
        + b"\0" * 4
        + b"\0" * 4
        + b"\0" * 4
        + b"\0" * 8
        + b"\0" * 4
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"\0" * 4
    )
    header += b"\0" * (128 - len(header))
    profile = header + struct.pack(">I", len(tags)) + table + body
    try:
        ImageCms.ImageCmsProfile(io.BytesIO(profile))
    except (ImageCms.PyCMSError, OSError):
        return None
    return profile


def test_gps_and_exif_are_stripped_from_output():
    data = _save(Image.fromarray(_gradient()), "JPEG", exif=_exif_bytes(gps=True))
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the input has GPS
    output = codec.encode(codec.decode(data))
    image = Image.open(io.BytesIO(output))
    assert not image.getexif().get_ifd(0x8825)
    assert "exif" not in image.info and b"Exif" not in output[:4096]


# --------------------------------------------------------------------------- hostile input


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding(monkeypatch):
    data = _png_header_only(100_000, 100_000)
    loads = []
    original_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda self: loads.append(1) or original_load(self))
    for call in (codec.decode, lambda d: codec.inspect(d, codec.Limits())):
        with pytest.raises(EnhancerError) as error:
            call(data)
        assert error.value.code == EnhancerError.TOO_MANY_PIXELS
    assert loads == []  # refused from the header alone


def test_side_and_size_limits():
    with pytest.raises(EnhancerError) as error:
        codec.decode(_png_header_only(30_000, 100))
    assert error.value.code == EnhancerError.IMAGE_TOO_LARGE
    small = _save(Image.fromarray(_gradient(40, 40)), "PNG")
    with pytest.raises(EnhancerError) as error:
        codec.decode(small)
    assert error.value.code == EnhancerError.IMAGE_TOO_SMALL
    with pytest.raises(EnhancerError) as error:
        codec.decode(small, codec.Limits(max_bytes=100))
    assert error.value.code == EnhancerError.FILE_TOO_LARGE


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", EnhancerError.EMPTY_IMAGE),
        (b"hello, this is text and not a picture at all", EnhancerError.NOT_AN_IMAGE),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, EnhancerError.NOT_AN_IMAGE),
        (b"\xff\xd8\xff\xe0" + b"\x13" * 100, EnhancerError.NOT_AN_IMAGE),
    ],
)
def test_garbage_is_refused(data, code):
    with pytest.raises(EnhancerError) as error:
        codec.decode(data)
    assert error.value.code == code


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_file_is_refused(fmt):
    rng = np.random.default_rng(2)
    noisy = rng.integers(0, 256, (200, 300, 3), dtype=np.uint8)
    data = _save(Image.fromarray(noisy), fmt)
    with pytest.raises(EnhancerError) as error:
        codec.decode(data[: len(data) // 2])
    assert error.value.code == EnhancerError.NOT_AN_IMAGE


def test_corrupt_png_crc_is_refused():
    data = bytearray(_save(Image.fromarray(_gradient()), "PNG"))
    data[-30] ^= 0xFF  # inside the last IDAT: its CRC no longer matches
    with pytest.raises(EnhancerError) as error:
        codec.decode(bytes(data))
    assert error.value.code == EnhancerError.NOT_AN_IMAGE


def test_encode_refuses_unknown_format():
    with pytest.raises(EnhancerError) as error:
        codec.encode(Picture(np.zeros((60, 60, 3), np.float32)), "TIFF")
    assert error.value.code == EnhancerError.BAD_PARAMS
