"""Serving private files: every download goes through a view that has already checked the owner."""

from __future__ import annotations

from django.http import FileResponse, Http404

from apps.imaging import codec

CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "bmp": "image/bmp",
    "webp": "image/webp",
}


INPUT_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "BMP": "bmp", "WEBP": "webp"}


def input_filename(job) -> str:
    stem = job.input_name.rsplit(".", 1)[0] or "photo"
    return f"{stem}.{INPUT_EXTENSIONS.get(job.input_format, 'bin')}"


def output_filename(output) -> str:
    """``holiday-dehazed.jpg`` for the ``dehazed`` output of ``holiday.png``."""
    stem = output.job.input_name.rsplit(".", 1)[0] or "photo"
    return f"{stem}-{output.kind}.{codec.EXTENSIONS.get(output.format, 'bin')}"


def private_file_response(field, filename: str, download: bool = False) -> FileResponse:
    """Stream a FileField's file; a missing file is a 404, never a 500."""
    if not field:
        raise Http404("No such file")
    try:
        handle = field.open("rb")
    except FileNotFoundError:
        raise Http404("No such file") from None
    extension = filename.rsplit(".", 1)[-1].lower()
    response = FileResponse(
        handle,
        as_attachment=download,
        filename=filename,
        content_type=CONTENT_TYPES.get(extension, "application/octet-stream"),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response
