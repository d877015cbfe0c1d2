"""Download names of a job's input and outputs."""

from __future__ import annotations

from apps.imaging import codec

INPUT_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "BMP": "bmp", "WEBP": "webp"}


def input_filename(job) -> str:
    stem = job.input_name.rsplit(".", 1)[0] or "photo"
    return f"{stem}.{INPUT_EXTENSIONS.get(job.input_format, 'bin')}"


def output_filename(output) -> str:
    """``holiday-dehazed.jpg`` for the ``dehazed`` output of ``holiday.png``."""
    stem = output.job.input_name.rsplit(".", 1)[0] or "photo"
    return f"{stem}-{output.kind}.{codec.EXTENSIONS.get(output.format, 'bin')}"
