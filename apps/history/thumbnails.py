"""History tiles show what a job made, not what was sent: a small JPEG of its first result,
made the first time the history page asks for it and kept in the job's folder.

Made here rather than by the worker so finished jobs from before this existed get one too. A
result larger than the installation's upload limits (a 4x upscale of a big photo) is not decoded
in a web process for a 320 px tile: its tile stays the input's, which at that size looks the
same. The file lives in the job's folder, so the job's deletion (cleanup.py) removes it.
"""

from __future__ import annotations

import logging

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.common.images import image_limits
from apps.imaging import codec
from apps.imaging.errors import EnhancerError
from apps.uploads.cleanup import job_folder
from apps.uploads.models import Job, Output

log = logging.getLogger(__name__)

NAME = "result-thumbnail.jpg"


def result_thumbnail(job: Job) -> str | None:
    """The storage name of ``job``'s result tile, made now if needed; None when the job has no
    result that can be drawn (not finished, nothing produced, too large)."""
    source = _source(job)
    if source is None:
        return None
    name = f"{job_folder(job)}/{NAME}"
    if default_storage.exists(name):
        return name
    try:
        with source.file.open("rb") as handle:
            data = codec.thumbnail(handle.read(), limits=image_limits())
    except (OSError, EnhancerError) as error:
        log.warning("no result thumbnail for job %s: %s", job.uuid, error)
        return None
    saved = default_storage.save(name, ContentFile(data))
    if saved != name:  # another request made it at the same moment: keep one
        default_storage.delete(saved)
    return name


def _source(job: Job) -> Output | None:
    if job.status != Job.Status.SUCCEEDED:
        return None
    limits = image_limits()
    for output in job.outputs.all():
        if output.width * output.height <= limits.max_pixels and output.bytes <= limits.max_bytes:
            return output
    return None
