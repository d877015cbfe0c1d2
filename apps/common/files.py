"""Serving private files: every download goes through a view that has already checked the owner."""

from __future__ import annotations

import sys
from typing import IO

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "bmp": "image/bmp",
    "webp": "image/webp",
}



def private_file_response(field, filename: str, download: bool = False) -> HttpResponseBase:
    """Stream a FileField's file; a missing file is a 404, never a 500.

    From object storage the bytes are relayed as they arrive, so the web server never holds a
    whole photo; with ``presigned_seconds`` set the client is sent instead to a signed URL of the
    object that expires.
    """
    if not field:
        raise Http404("No such file")
    extension = filename.rsplit(".", 1)[-1].lower()
    content_type = CONTENT_TYPES.get(extension, "application/octet-stream")
    seconds = settings.ENHANCER_STORAGE_PRESIGNED_SECONDS
    response: HttpResponseBase
    if seconds and _is_object_storage(field.storage):
        response = HttpResponseRedirect(
            field.storage.url(
                field.name,
                parameters={
                    "ResponseContentType": content_type,
                    "ResponseContentDisposition": content_disposition_header(download, filename),
                },
                expire=seconds,
            )
        )
        # The link dies after ``seconds``: nobody may keep the redirect longer.
        response["Cache-Control"] = "private, no-store"
    else:
        handle, size = _open_stream(field)
        response = FileResponse(
            handle, as_attachment=download, filename=filename, content_type=content_type
        )
        # Fewer, larger reads: each one is a socket read when the file comes from a bucket.
        response.block_size = 64 * 1024
        if size is not None:
            response["Content-Length"] = str(size)
        response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _is_object_storage(storage) -> bool:
    # S3Storage can only be in use once its module is imported; asking sys.modules keeps boto3
    # out of processes that store files locally.
    s3 = sys.modules.get("storages.backends.s3")
    return s3 is not None and isinstance(storage, s3.S3Storage)


def _open_stream(field) -> tuple[IO[bytes], int | None]:
    """A readable stream of the file and its size when the storage knows it without reading."""
    try:
        handle = field.storage.open(field.name, "rb")
    except FileNotFoundError:
        raise Http404("No such file") from None
    if not _is_object_storage(field.storage):
        return handle, None
    from botocore.exceptions import ClientError

    # S3File would download the whole object before the first byte goes out; the GET's body
    # streams instead. (open() above already answered the "is it there" question with a HEAD.)
    try:
        reply = handle.obj.get()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            raise Http404("No such file") from None
        raise
    finally:
        handle.close()
    return reply["Body"], reply["ContentLength"]
