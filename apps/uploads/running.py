"""Running a claimed job (what the worker's task calls): the provider, its outputs stored with
the job's end, or the job failed or put back in the queue. Claiming is liveness.py's."""

from __future__ import annotations

import logging
import time

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from apps import providers
from apps.imaging import codec
from apps.imaging.errors import EnhancerError, embedded, gettext_noop

from . import cleanup
from .models import Job, Output
from .signals import job_finished

log = logging.getLogger(__name__)

MAX_RETRIES = 3


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


def run_job(job: Job) -> None:
    """Perform a claimed job and store its outputs. Raises EnhancerError for the task to judge."""
    provider = providers.for_operation(job.operation)
    Job.objects.filter(id=job.id).update(provider=provider.name)
    with job.input_file.open("rb") as handle:
        data = handle.read()
    result = provider.run(job.operation, data, job.params, ProgressWriter(job.id))
    stored: list[str] = []
    try:
        with transaction.atomic():
            # Locked, and still this attempt's: a job deleted meanwhile, or taken over by another
            # worker after this one was presumed dead, gets no files from here.
            mine = (
                Job.objects.select_for_update()
                .filter(id=job.id, status=Job.Status.RUNNING, attempts=job.attempts)
                .exists()
            )
            if not mine:
                log.info("job %s was deleted or taken over; its results are dropped", job.uuid)
                return
            _store_outputs(job, result, stored)
            Job.objects.filter(id=job.id, status=Job.Status.RUNNING).update(
                status=Job.Status.SUCCEEDED,
                progress=100,
                info=result.info,
                **NO_ERROR,
                finished_at=timezone.now(),
            )
    except BaseException as error:
        cleanup.delete_names(stored)  # the rows are rolled back: no output without its row
        if isinstance(error, OSError):
            # A write that failed half-way leaves a file no row names: keep only what rows do.
            known = [job.input_file.name, job.thumbnail.name]
            known += Output.objects.filter(job_id=job.id).values_list("file", flat=True)
            cleanup.empty_folder(cleanup.job_folder(job), keep=known)
            raise EnhancerError(
                EnhancerError.STORAGE_UNAVAILABLE,
                gettext_noop("The result could not be saved (%(reason)s); nothing was kept."),
                {"reason": error.strerror or "storage error"},
            ) from None
        raise
    log.info("job %s succeeded (%s by %s)", job.uuid, job.operation, provider.name)
    _announce_finished(job.id)


def _store_outputs(job: Job, result, stored: list[str]) -> None:
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
        stored.append(output.file.name)
        output.save()


def fail(job_id: int, error: EnhancerError, attempt: int | None = None) -> None:
    """``attempt``: fail only while the job is still that attempt's, so a worker whose job was
    taken over (liveness.py) cannot fail its successor's run; a deleted job is left alone."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(id=job_id).first()
        if job is None or (attempt is not None and job.attempts != attempt):
            return
        if job.is_finished:
            # A late error (a soft time limit hitting an on-commit receiver) after the results
            # were committed must neither take them back nor announce the job a second time.
            log.warning("job %s is already %s; ignoring a late %s", job.uuid, job.status, error.code)
            return
        job.outputs.all().delete()  # their files go once this commits (cleanup.py)
        Job.objects.filter(id=job_id).update(
            status=Job.Status.FAILED, finished_at=timezone.now(), **error_fields(error)
        )
    log.warning("job %s failed: %s", job.uuid, error)
    _announce_finished(job_id)


def _announce_finished(job_id: int) -> None:
    transaction.on_commit(lambda: job_finished.send(sender=Job, job_id=job_id))


def requeue(job_id: int, error: EnhancerError, attempt: int | None = None) -> None:
    fenced = {} if attempt is None else {"attempts": attempt}
    retrying = EnhancerError(error.code, gettext_noop("Retrying: %(reason)s"), embedded("reason", error))
    Job.objects.filter(id=job_id, status=Job.Status.RUNNING, **fenced).update(
        status=Job.Status.QUEUED, **error_fields(retrying)
    )


def error_fields(error: EnhancerError) -> dict:
    """The job row's columns for ``error``: its code, its English text (what the APIs answer),
    and its template and parameters (what the pages translate)."""
    return {
        "error_code": error.code,
        "error_message": error.message,
        "error_message_id": error.message_id,
        "error_params": error.params,
    }


NO_ERROR = {"error_code": "", "error_message": "", "error_message_id": "", "error_params": {}}
