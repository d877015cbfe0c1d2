"""All of a job's results in one zip file."""

from __future__ import annotations

import tempfile
import zipfile

from apps.uploads.files import output_filename
from apps.uploads.models import Job

# Up to this size the archive stays in memory; a larger one (a 4x upscale of a big photo) goes
# to a temporary file, so a download never holds hundreds of megabytes in the web process.
IN_MEMORY_BYTES = 16 * 1024 * 1024


def outputs_zip(job: Job):
    """A file object (at position 0) holding every output of ``job``; JPEG and PNG are already
    compressed, so the entries are stored as they are."""
    archive = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)  # noqa: SIM115 - the response closes it
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as bundle:
        for output in job.outputs.all():
            with output.file.open("rb") as source, bundle.open(output_filename(output), "w") as target:
                while chunk := source.read(1024 * 1024):
                    target.write(chunk)
    archive.seek(0)
    return archive


def zip_filename(job: Job) -> str:
    stem = (job.input_name.rsplit(".", 1)[0] or "photo")[:100]
    return f"{stem}-{job.operation}.zip"
