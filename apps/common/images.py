"""Uploaded photos: read them under the size limit and check them under the pixel limits.

Every surface (pages, native API, VK / Baidu / Meitu endpoints, face registry) takes photos
through here, so a photo refused on one is refused on all, with the same EnhancerError.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from apps.imaging import codec
from apps.imaging.errors import EnhancerError


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
            f"{upload.name} is {upload.size / 2**20:.1f} MB; the limit is {limit / 2**20:.0f} MB.",
        )
    return upload.read()


def validate_image(data: bytes, name: str) -> ValidatedImage:
    """Decode the whole image under the configured limits; raise EnhancerError if it is unfit."""
    return ValidatedImage(data, name[:255], codec.inspect(data, image_limits()))


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
