"""Everything that creates, runs and removes photo jobs. Views, APIs and tasks all call these."""

from __future__ import annotations

import logging
import time

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from apps import providers
from apps.common import metrics
from apps.common.images import ValidatedImage, validate_image
from apps.imaging import codec, operations
from apps.imaging.errors import EnhancerError

from . import allowance, cleanup, costs
from .models import Job, Output
from .signals import job_finished

log = logging.getLogger(__name__)

MAX_RETRIES = 3


def validate_operation(operation: str, params: dict) -> dict:
    """The one check of an operation and its parameters, at submission: the engine's
    ``clean_params`` (types, ranges, defaults), then the provider's availability and its own
    limits. The cleaned parameters are stored with the job and the worker trusts them."""
    cleaned = operations.get(operation).clean_params(dict(params or {}))
    provider = providers.for_operation(operation)
    reason = provider.unavailable_reason(operation)
    if reason:
        raise EnhancerError(EnhancerError.UNAVAILABLE, f"{operation} unavailable: {reason}")
    # Optional in the interface: a provider without limits of its own need not define it.
    check_params = getattr(provider, "check_params", None)
    if check_params is not None:
        check_params(operation, cleaned)
    return cleaned


def create_jobs(
    owner,
    images: list[ValidatedImage],
    operation: str = "",
    params: dict | None = None,
    source: str = Job.Source.WEB,
    api_client=None,
    plans: list[costs.Plan] | None = None,
) -> list[Job]:
    """Store the inputs and queue one job per image, all or none.

    Either ``operation`` and ``params`` (checked and costed here), or ``plans``: what
    :func:`costs.admit` gave for these images in this request already, one per image; the jobs
    then take their operation and parameters from the plans (which may differ: VK stores the
    jobs of all its modes in one call, so they are counted and queued all or none). Both at
    once is a TypeError: one of them would be ignored.

    Raises EnhancerError ``storage_unavailable`` / ``queue_unavailable`` (temporary: every
    surface answers 503) with nothing left stored when the files or the messages cannot be
    written.
    """
    if plans is None:
        plans = costs.admit(operation, validate_operation(operation, params or {}), images)
    elif operation or params:
        raise TypeError("create_jobs takes an operation and its params, or plans, not both")
    elif len(plans) != len(images):
        raise ValueError(f"create_jobs got {len(plans)} plans for {len(images)} images")
    jobs: list[Job] = []
    try:
        with transaction.atomic():
            # Jobs count against the client's quota, or without one (web pages, the API with
            # a session) against the user's daily allowance; a failure below gives them back.
            if api_client is None:
                allowance.take(owner, len(images))
            else:
                allowance.take_client(api_client, len(images))
            for image, plan in zip(images, plans, strict=True):
                jobs.append(_store_job(owner, image, source, api_client, plan))
            _enqueue_on_commit(jobs)
    except BaseException as error:
        for job in jobs:  # the rows are rolled back (or withdrawn); their files must go too
            cleanup.empty_folder(cleanup.job_folder(job))
        if isinstance(error, OSError):
            log.error("could not store an upload: %s", error)
            refusal = EnhancerError(
                EnhancerError.STORAGE_UNAVAILABLE,
                "The photo could not be saved: the server's storage is full or not writable. "
                "Nothing was stored; please try again later.",
                temporary=True,
            )
            metrics.refused(refusal.code)
            raise refusal from None
        raise
    return jobs


def create_job(
    owner, image: ValidatedImage, operation: str, params: dict, source: str, api_client=None
) -> Job:
    return create_jobs(owner, [image], operation, params, source, api_client)[0]


def _store_job(owner, image, source: str, api_client, plan: costs.Plan) -> Job:
    job = Job(
        cost_class=plan.cost_class,
        cost_key=plan.key,
        estimate_seconds=plan.estimate_seconds,
        owner=owner,
        source=source,
        api_client=api_client,
        operation=plan.operation,
        params=plan.params,
        input_name=image.name,
        input_format=image.info.format,
        input_width=image.info.width,
        input_height=image.info.height,
        input_bytes=len(image.data),
    )
    job.input_file.save("input", ContentFile(image.data), save=False)
    job.thumbnail.save("thumbnail.jpg", ContentFile(codec.thumbnail(image.data)), save=False)
    job.save()
    return job


def publish(job: Job) -> None:
    """Send the job's message to the broker (raises when the broker cannot take it)."""
    from .tasks import process_job

    # The job's cost class is its queue: heavy work has its own workers (costs.py).
    process_job.apply_async(args=[job.id], queue=job.cost_class)


def _enqueue_on_commit(jobs: list[Job]) -> None:
    """Publish once the rows are committed (a worker must find them); if the broker refuses,
    withdraw the whole batch — rows and files — and say so, rather than leave queued jobs that
    no worker will ever see."""

    def publish_or_withdraw() -> None:
        try:
            for job in jobs:
                publish(job)
        except Exception:
            log.exception("could not queue jobs %s; withdrawing them", [job.uuid for job in jobs])
            withdraw(jobs)
            metrics.refused(EnhancerError.QUEUE_UNAVAILABLE)
            raise EnhancerError(
                EnhancerError.QUEUE_UNAVAILABLE,
                "The job queue is not reachable right now, so nothing was stored. "
                "Please try again in a minute.",
                temporary=True,
            ) from None
        for job in jobs:
            metrics.job_submitted(job)

    transaction.on_commit(publish_or_withdraw)


def withdraw(jobs: list[Job]) -> None:
    """Delete jobs that were stored but must not run; a message already sent finds no row."""
    for job in jobs:
        if job.pk is not None:
            delete_job(job)


def rerun(job: Job) -> Job:
    """A new job with the same input, operation and parameters, admitted and counted as the
    first one was: against its API client's quota (refused once that client is disabled) or
    the owner's daily allowance."""
    with job.input_file.open("rb") as handle:
        data = handle.read()
    image = validate_image(data, job.input_name)
    return create_job(job.owner, image, job.operation, job.params, job.source, job.api_client)


def delete_job(job: Job) -> None:
    """Remove the row; its files and its outputs' go once that has committed (cleanup.py)."""
    job.delete()


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


def claim(job_id: int) -> Job | None:
    """Move a queued job (or a running one whose worker is gone) to running; None if there is
    nothing for this process to do. See liveness.py."""
    from . import liveness

    return liveness.claim(job_id)


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
                error_code="",
                error_message="",
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
                f"The result could not be saved ({error.strerror or 'storage error'}); "
                "nothing was kept.",
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
            status=Job.Status.FAILED,
            error_code=error.code,
            error_message=error.message,
            finished_at=timezone.now(),
        )
    log.warning("job %s failed: %s", job.uuid, error)
    _announce_finished(job_id)


def _announce_finished(job_id: int) -> None:
    transaction.on_commit(lambda: job_finished.send(sender=Job, job_id=job_id))


def requeue(job_id: int, error: EnhancerError, attempt: int | None = None) -> None:
    fenced = {} if attempt is None else {"attempts": attempt}
    Job.objects.filter(id=job_id, status=Job.Status.RUNNING, **fenced).update(
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
