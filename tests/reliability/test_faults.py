"""Faults with real worker processes, on the filesystem broker and on Redis: a worker child
SIGKILLed mid-job, a photo that kills its worker every time, the database connections killed
under a running job. Each job ends exactly once (one set of outputs, no stray files) or fails
clearly."""

from __future__ import annotations

import os
import signal

import pytest
from django.db import connection

from apps.imaging.errors import EnhancerError
from apps.uploads.cleanup import job_folder
from apps.uploads.models import Job
from tests.helpers import files_under, image_bytes, wait_for
from tests.uploads.factories import make_job

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def big_photo() -> bytes:
    # Dehazing 12 megapixels takes seconds: long enough to be caught running.
    return image_bytes(4000, 3000, "JPEG")


def kill_attempt(job: Job, attempt: int) -> None:
    """SIGKILL the worker process running ``attempt`` of the job, as the OOM killer would."""
    worker = wait_for(
        lambda: Job.objects.filter(id=job.id, status=Job.Status.RUNNING, attempts=attempt)
        .values_list("worker", flat=True).first(),
        timeout=120, interval=0.05,
    )
    os.kill(int(worker.rsplit(":", 1)[1]), signal.SIGKILL)


def finished(job: Job, timeout: float = 240) -> Job:
    def done():
        job.refresh_from_db()
        return job.is_finished

    wait_for(done, timeout=timeout)
    return job


def job_files(settings, job: Job) -> set[str]:
    folder = job_folder(job)
    return {name for name in files_under(settings.MEDIA_ROOT) if name.startswith(folder + "/")}


def test_a_killed_worker_is_replaced_once_and_a_photo_that_always_kills_fails_after_n(
    transport, start_worker, alice, settings, big_photo
):
    start_worker(transport, ENHANCER_JOB_MAX_ATTEMPTS="2", ENHANCER_JOB_HEARTBEAT_SECONDS="1")

    # Killed once: the redelivered message takes the job over and it ends exactly once.
    job = make_job(alice, "dehaze", big_photo)
    kill_attempt(job, 1)
    job = finished(job)
    assert (job.status, job.attempts) == (Job.Status.SUCCEEDED, 2), job.error_message
    output = job.outputs.get()
    assert output.kind == "dehazed"
    assert job_files(settings, job) == {job.input_file.name, job.thumbnail.name, output.file.name}

    # Killed on every attempt: failed clearly after ENHANCER_JOB_MAX_ATTEMPTS, not redelivered forever.
    doomed = make_job(alice, "dehaze", big_photo)
    kill_attempt(doomed, 1)
    kill_attempt(doomed, 2)
    doomed = finished(doomed)
    assert (doomed.status, doomed.error_code) == (Job.Status.FAILED, EnhancerError.WORKER_LOST)
    assert "stopped 2 times" in doomed.error_message
    assert doomed.outputs.count() == 0
    assert job_files(settings, doomed) == {doomed.input_file.name, doomed.thumbnail.name}


def test_a_job_survives_its_database_connections_being_killed_and_later_jobs_run(
    start_worker, alice, settings, big_photo
):
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend needs PostgreSQL")
    start_worker(settings.CELERY_BROKER_URL, pool="solo", ENHANCER_JOB_HEARTBEAT_SECONDS="1")
    job = make_job(alice, "dehaze", big_photo)
    wait_for(lambda: Job.objects.filter(id=job.id, status=Job.Status.RUNNING).exists(),
             timeout=120, interval=0.05)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchall(), "the worker had no connection to kill"
    job = finished(job)
    # Its first attempt lost the connection mid-job and was retried on a new one.
    assert (job.status, job.attempts) == (Job.Status.SUCCEEDED, 2), job.error_message
    assert job.outputs.count() == 1

    later = finished(make_job(alice, "dehaze", image_bytes(640, 480, "JPEG")))
    assert later.status == Job.Status.SUCCEEDED, later.error_message
