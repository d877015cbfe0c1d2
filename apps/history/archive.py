"""Jobs' results in one zip file: one job's ("Download all") or several chosen on the history
page ("Download selected")."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterable

from apps.uploads.files import output_filename
from apps.uploads.models import Job

# Up to this size the archive stays in memory; a larger one (a 4x upscale of a big photo) goes
# to a temporary file, so a download never holds hundreds of megabytes in the web process.
IN_MEMORY_BYTES = 16 * 1024 * 1024


def outputs_zip(job: Job):
    """A file object (at position 0) holding every output of ``job``; JPEG and PNG are already
    compressed, so the entries are stored as they are."""
    return _zip((output_filename(output), output) for output in job.outputs.all())


def jobs_zip(jobs: Iterable[Job]):
    """Every output of ``jobs``, each job's in a folder of its own (``holiday-dehaze/…``); two
    jobs that would share a folder name get ``-2``, ``-3``… so nothing is overwritten."""
    folders: set[str] = set()

    def entries():
        for job in jobs:
            stem = folder = zip_stem(job)
            number = 1
            while folder in folders:
                number += 1
                folder = f"{stem}-{number}"
            folders.add(folder)
            for output in job.outputs.all():
                yield f"{folder}/{output_filename(output)}", output

    return _zip(entries())


def _zip(entries):
    archive = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)  # noqa: SIM115 - the response closes it
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as bundle:
        for name, output in entries:
            with output.file.open("rb") as source, bundle.open(name, "w") as target:
                while chunk := source.read(1024 * 1024):
                    target.write(chunk)
    archive.seek(0)
    return archive


def zip_stem(job: Job) -> str:
    stem = (job.input_name.rsplit(".", 1)[0] or "photo")[:100]
    return f"{stem}-{job.operation}"


def zip_filename(job: Job) -> str:
    return f"{zip_stem(job)}.zip"
