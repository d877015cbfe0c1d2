"""Uploaded photos: read them under the size limit and check them under the pixel limits.

Every surface (pages, native API, VK / Baidu / Meitu endpoints, face registry) takes photos
through here, so a photo refused on one is refused on all, with the same EnhancerError.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings

from apps.imaging import codec
from apps.imaging.errors import EnhancerError, gettext_noop


def image_limits() -> codec.Limits:
    """The installation's limits (settings), in the engine's terms."""
    return codec.Limits(
        max_bytes=settings.ENHANCER_MAX_UPLOAD_BYTES,
        max_pixels=settings.ENHANCER_MAX_PIXELS,
        min_side=settings.ENHANCER_MIN_SIDE,
    )


@dataclass(frozen=True)
class ValidatedImage:
    data: bytes
    name: str
    info: codec.ImageInfo


def read_upload(upload) -> bytes:
    """Read an uploaded file, refusing an oversize one before it is read into memory."""
    limit = image_limits().max_bytes
    if upload.size is not None and upload.size > limit:
        raise EnhancerError(
            EnhancerError.FILE_TOO_LARGE,
            gettext_noop("%(name)s is %(size)s MB; the limit is %(limit)s MB."),
            {"name": str(upload.name), "size": f"{upload.size / 2**20:.1f}", "limit": f"{limit / 2**20:.0f}"},
        )
    return upload.read()


def validate_image(data: bytes, name: str) -> ValidatedImage:
    """Decode the whole image under the configured limits; raise EnhancerError if it is unfit."""
    spend_decode_budget(data)
    return ValidatedImage(data, name[:255], codec.inspect(data, image_limits()))


# Bytes of decoded pixels the current request may still spend (None: no budget, as in a worker).
_decode_left: ContextVar[list[int] | None] = ContextVar("decode_left", default=None)


@contextmanager
def decode_budget(limit: int) -> Iterator[None]:
    """Within the block, photos decoded through this module share ``limit`` bytes of pixels
    (enhancer_site.request_limits.DecodeBudgetMiddleware gives each request one)."""
    token = _decode_left.set([limit])
    try:
        yield
    finally:
        _decode_left.reset(token)


def spend_decode_budget(data: bytes) -> None:
    """Charge a photo's decoded size (from its header, before any pixel is decoded) to the
    request's budget; raise EnhancerError TOO_MANY_PIXELS when it is spent.

    Files are capped by bytes, but a small file can decode big: a 381 KB 16-bit RGBA PNG of
    7000x7000 is 392 MB of pixels and took 5.5 s to check, twenty of them to a request.
    """
    left = _decode_left.get()
    if left is None:
        return
    cost = codec.probe(data, image_limits()).decoded_bytes
    if cost > left[0]:
        limit = settings.ENHANCER_DECODE_BUDGET_MB
        raise EnhancerError(
            EnhancerError.TOO_MANY_PIXELS,
            gettext_noop(
                "Decoding the photos of this request would take more than the %(limit)s MB of pixels "
                "allowed per request (16-bit and transparent photos count more); send fewer or "
                "smaller photos at once."
            ),
            {"limit": limit},
        )
    left[0] -= cost


@dataclass(frozen=True)
class Refused:
    """One file of a batch that was left out: its place in the request, its name and why."""

    index: int
    name: str
    error: EnhancerError

    def as_dict(self) -> dict:
        return {"index": self.index, "name": self.name, "code": self.error.code, "message": self.error.message}


def validate_uploads(uploads) -> tuple[list[tuple[int, ValidatedImage]], list[Refused]]:
    """Each upload checked on its own: a bad file is refused with its reason and never costs the
    good ones their jobs. The good ones keep their index in the request."""
    accepted, refused = [], []
    for index, upload in enumerate(uploads):
        name = upload.name or "upload"
        try:
            accepted.append((index, validate_image(read_upload(upload), name)))
        except EnhancerError as error:
            refused.append(Refused(index, name[:255], error))
    return accepted, refused
