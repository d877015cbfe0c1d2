"""Everything that creates, runs and removes photo jobs. Views, APIs and tasks all call these."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps import providers
from apps.imaging import codec, operations
from apps.imaging.errors import EnhancerError
from apps.providers.limits import image_limits

from .models import Job, Output
from .signals import job_finished

log = logging.getLogger(__name__)

MAX_RETRIES = 3


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


def validate_operation(operation: str, params: dict) -> dict:
    cleaned = operations.get(operation).clean_params(dict(params or {}))
    reason = providers.for_operation(operation).unavailable_reason(operation)
    if reason:
        raise EnhancerError(EnhancerError.UNAVAILABLE, f"{operation} unavailable: {reason}")
    return cleaned


def create_jobs(
    owner,
    images: list[ValidatedImage],
    operation: str,
    params: dict,
    source: str = Job.Source.WEB,
    api_client=None,
) -> list[Job]:
    """Store the inputs and queue one job per image, all or none."""
    params = validate_operation(operation, params)
    jobs: list[Job] = []
    try:
        with transaction.atomic():
            for image in images:
                jobs.append(_store_job(owner, image, operation, params, source, api_client))
    except BaseException:
        for job in jobs:  # the rows are rolled back; their files must go too
            delete_files(job)
        raise
    return jobs


def create_job(
    owner, image: ValidatedImage, operation: str, params: dict, source: str, api_client=None
) -> Job:
    return create_jobs(owner, [image], operation, params, source, api_client)[0]


def _store_job(owner, image, operation: str, params: dict, source: str, api_client) -> Job:
    job = Job(
        owner=owner,
        source=source,
        api_client=api_client,
        operation=operation,
        params=params,
        input_name=image.name,
        input_format=image.info.format,
        input_width=image.info.width,
        input_height=image.info.height,
        input_bytes=len(image.data),
    )
    job.input_file.save("input", ContentFile(image.data), save=False)
    job.thumbnail.save("thumbnail.jpg", ContentFile(codec.thumbnail(image.data)), save=False)
    job.save()
    _enqueue_on_commit(job)
    return job


def _enqueue_on_commit(job: Job) -> None:
    from .tasks import process_job

    job_id = job.id
    transaction.on_commit(lambda: process_job.delay(job_id))


def rerun(job: Job) -> Job:
    """A new job with the same input, operation and parameters."""
    with job.input_file.open("rb") as handle:
        data = handle.read()
    image = validate_image(data, job.input_name)
    return create_job(job.owner, image, job.operation, job.params, job.source, job.api_client)


def delete_job(job: Job) -> None:
    """Remove the row, then (once that has committed) its files."""
    with transaction.atomic():
        files = _file_names(job)
        job.delete()
        transaction.on_commit(lambda: _delete_names(files))


def _file_names(job: Job) -> list[str]:
    names = [job.input_file.name, job.thumbnail.name]
    names += [output.file.name for output in job.outputs.all()]
    return [name for name in names if name]


def delete_files(job: Job) -> None:
    _delete_names(_file_names(job) if job.pk else [job.input_file.name, job.thumbnail.name])


def _delete_names(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        if name:
            default_storage.delete(name)


# --- running ---------------------------------------------------------------------------------


class ProgressWriter:
    """Writes progress to the job row at most every half second and only when it grew."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.last_value = -1
        self.last_time = 0.0

    def __call__(self, fraction: float) -> None:
        value = int(min(max(fraction, 0.0), 1.0) * 99)  # 100 only when outputs are stored
        now = time.monotonic()
        if value > self.last_value and (now - self.last_time > 0.5 or value - self.last_value >= 10):
            Job.objects.filter(id=self.job_id, status=Job.Status.RUNNING).update(progress=value)
            self.last_value, self.last_time = value, now


def claim(job_id: int, redelivered: bool = False) -> Job | None:
    """Move a queued job to running; None if another worker has it or it is already done.

    A message redelivered after a worker died may find its job still "running": that worker is
    gone, so the job is taken over.
    """
    claimable = [Job.Status.QUEUED] + ([Job.Status.RUNNING] if redelivered else [])
    claimed = Job.objects.filter(id=job_id, status__in=claimable).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    )
    return Job.objects.get(id=job_id) if claimed else None


def run_job(job: Job) -> None:
    """Perform a claimed job and store its outputs. Raises EnhancerError for the task to judge."""
    provider = providers.for_operation(job.operation)
    Job.objects.filter(id=job.id).update(provider=provider.name)
    with job.input_file.open("rb") as handle:
        data = handle.read()
    result = provider.run(job.operation, data, job.params, ProgressWriter(job.id))
    with transaction.atomic():
        done = set(job.outputs.values_list("kind", flat=True))
        for produced in result.outputs:
            if produced.kind in done:
                continue
            output = Output(
                job=job,
                kind=produced.kind,
                format=produced.format,
                width=produced.width,
                height=produced.height,
                bytes=len(produced.data),
            )
            extension = codec.EXTENSIONS[produced.format]
            output.file.save(f"{produced.kind}.{extension}", ContentFile(produced.data), save=False)
            output.save()
        Job.objects.filter(id=job.id, status=Job.Status.RUNNING).update(
            status=Job.Status.SUCCEEDED,
            progress=100,
            info=result.info,
            error_code="",
            error_message="",
            finished_at=timezone.now(),
        )
    log.info("job %s succeeded (%s by %s)", job.uuid, job.operation, provider.name)
    _announce_finished(job.id)


def fail(job_id: int, error: EnhancerError) -> None:
    with transaction.atomic():
        job = Job.objects.select_for_update().get(id=job_id)
        partial = list(job.outputs.all())
        for output in partial:
            output.file.delete(save=False)
        job.outputs.all().delete()
        Job.objects.filter(id=job_id).exclude(status=Job.Status.SUCCEEDED).update(
            status=Job.Status.FAILED,
            error_code=error.code,
            error_message=error.message,
            finished_at=timezone.now(),
        )
    log.warning("job %s failed: %s", job.uuid, error)
    _announce_finished(job_id)


def _announce_finished(job_id: int) -> None:
    transaction.on_commit(lambda: job_finished.send(sender=Job, job_id=job_id))


def requeue(job_id: int, error: EnhancerError) -> None:
    Job.objects.filter(id=job_id, status=Job.Status.RUNNING).update(
        status=Job.Status.QUEUED, error_code=error.code, error_message=f"Retrying: {error.message}"
    )


def wait_for(job: Job, timeout: float, interval: float = 0.25) -> Job:
    """Block until the job is finished or ``timeout`` seconds pass; returns the fresh row.

    The synchronous compat endpoints use this; the job keeps running (and lands in history)
    when the wait gives up.
    """
    deadline = time.monotonic() + timeout
    while True:
        job.refresh_from_db()
        if job.is_finished or time.monotonic() >= deadline:
            return job
        time.sleep(interval)
