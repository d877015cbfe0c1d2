"""Submitting and removing photo jobs: views, APIs and the worker's sweeps call these.

What a worker does with a job once it has it is running.py."""

from __future__ import annotations

import logging
import time

from celery import signature
from django.core.files.base import ContentFile
from django.db import transaction

from apps import providers
from apps.common import metrics
from apps.common.images import ValidatedImage, validate_image
from apps.imaging import codec, operations
from apps.imaging.errors import EnhancerError, gettext_noop

from . import allowance, cleanup, costs
from .models import Job

log = logging.getLogger(__name__)

# The worker's task (tasks.process_job is registered under this name).
PROCESS_JOB = "apps.uploads.tasks.process_job"


def validate_operation(operation: str, params: dict) -> dict:
    """The one check of an operation and its parameters, at submission: the engine's
    ``clean_params`` (types, ranges, defaults), then the provider's availability and its own
    limits. The cleaned parameters are stored with the job and the worker trusts them."""
    cleaned = operations.get(operation).clean_params(dict(params or {}))
    provider = providers.for_operation(operation)
    reason = provider.unavailable_reason(operation)
    if reason:
        raise EnhancerError(
            EnhancerError.UNAVAILABLE, gettext_noop("%(operation)s unavailable: %(reason)s"),
            {"operation": operation, "reason": reason},
        )
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
                gettext_noop(
                    "The photo could not be saved: the server's storage is full or not writable. "
                    "Nothing was stored; please try again later."
                ),
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
    """Send the job's message to the broker (raises when the broker cannot take it).

    By the task's name: this module submits, tasks.py runs, and only tasks.py knows both."""
    # The job's cost class is its queue: heavy work has its own workers (costs.py).
    signature(PROCESS_JOB, args=[job.id], queue=job.cost_class).apply_async()


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
                gettext_noop(
                    "The job queue is not reachable right now, so nothing was stored. "
                    "Please try again in a minute."
                ),
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
