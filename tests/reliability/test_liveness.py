"""Stuck jobs: a job whose worker is gone is taken over (by any delivery, on any transport) or
swept, at most ENHANCER_JOB_MAX_ATTEMPTS times, and a worker taken over stores nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.imaging.errors import EnhancerError
from apps.uploads import liveness
from apps.uploads import running as job_running
from apps.uploads.models import Job
from apps.uploads.tasks import process_job, sweep_stale_jobs
from tests.helpers import files_under, wait_for
from tests.uploads.factories import make_job

pytestmark = pytest.mark.django_db


def dead_pid() -> int:
    """The pid of a process of this machine that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def running(job: Job, *, worker: str, seconds_ago: float = 0, attempts: int = 1) -> None:
    at = timezone.now() - timedelta(seconds=seconds_ago)
    Job.objects.filter(id=job.id).update(
        status=Job.Status.RUNNING, started_at=at, heartbeat_at=at, worker=worker, attempts=attempts
    )


@pytest.fixture
def eager():
    """Published tasks run right here, so a requeue is seen to run the job."""
    from enhancer_site.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_a_delivery_takes_over_a_job_whose_worker_process_died_here(alice):
    # The filesystem broker's redelivery carries no ``redelivered`` flag: the dead pid decides.
    job = make_job(alice, "contrast")
    running(job, worker=f"{socket.gethostname()}:{dead_pid()}")
    process_job.apply(args=[job.id])
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.SUCCEEDED, 2)
    assert job.outputs.count() == 1


def test_a_delivery_takes_over_a_job_whose_heartbeat_went_silent(alice, settings):
    job = make_job(alice, "contrast")
    running(job, worker="another-machine:17", seconds_ago=settings.ENHANCER_JOB_STALE_SECONDS + 5)
    process_job.apply(args=[job.id])
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.SUCCEEDED, 2)


def test_a_job_running_in_a_live_process_is_not_taken_over(alice):
    job = make_job(alice, "contrast")
    # The test runner's parent process: alive, on this machine, heartbeat fresh.
    running(job, worker=f"{socket.gethostname()}:{os.getppid()}")
    process_job.apply(args=[job.id])
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.RUNNING, 1)


def test_a_job_that_lost_its_worker_n_times_fails_clearly(alice, settings):
    settings.ENHANCER_JOB_MAX_ATTEMPTS = 3
    job = make_job(alice, "contrast")
    running(job, worker=f"{socket.gethostname()}:{dead_pid()}", attempts=3)
    process_job.apply(args=[job.id])
    job.refresh_from_db()
    assert (job.status, job.error_code) == (Job.Status.FAILED, EnhancerError.WORKER_LOST)
    assert "stopped 3 times" in job.error_message
    assert job.attempts == 3 and job.outputs.count() == 0


def test_the_sweeper_requeues_a_job_whose_worker_went_silent(alice, settings, eager):
    job = make_job(alice, "contrast")
    running(job, worker="another-machine:17", seconds_ago=settings.ENHANCER_JOB_STALE_SECONDS + 5)
    assert sweep_stale_jobs.apply().get() == {"requeued": 1, "failed": 0}
    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.SUCCEEDED, 2)
    assert job.outputs.count() == 1


def test_the_sweeper_fails_a_silent_job_out_of_attempts(alice, settings):
    settings.ENHANCER_JOB_MAX_ATTEMPTS = 2
    job = make_job(alice, "contrast")
    running(job, worker="another-machine:17", seconds_ago=3600, attempts=2)
    assert liveness.sweep_stale_jobs() == {"requeued": 0, "failed": 1}
    job.refresh_from_db()
    assert (job.status, job.error_code) == (Job.Status.FAILED, EnhancerError.WORKER_LOST)


def test_the_sweeper_leaves_live_queued_and_finished_jobs_alone(alice, settings):
    live, queued, done = (make_job(alice, "contrast") for _ in range(3))
    running(live, worker="another-machine:17", seconds_ago=1)
    Job.objects.filter(id=done.id).update(status=Job.Status.SUCCEEDED, started_at=timezone.now() - timedelta(days=1))
    assert liveness.sweep_stale_jobs() == {"requeued": 0, "failed": 0}
    statuses = dict(Job.objects.values_list("id", "status"))
    assert statuses == {live.id: "running", queued.id: "queued", done.id: "succeeded"}


def test_a_worker_whose_job_was_taken_over_stores_nothing(alice, settings):
    job = make_job(alice, "contrast")
    claimed = liveness.claim(job.id)
    assert claimed is not None and claimed.attempts == 1
    # Presumed dead, the job was claimed again elsewhere (attempt 2) while this one went on.
    Job.objects.filter(id=job.id).update(attempts=2, worker="another-machine:17")
    job_running.run_job(claimed)
    job_running.fail(job.id, EnhancerError(EnhancerError.INTERNAL, "late"), attempt=1)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.outputs.count()) == (Job.Status.RUNNING, 2, 0)
    assert files_under(settings.MEDIA_ROOT) == {job.input_file.name, job.thumbnail.name}


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_marks_the_running_job_alive_from_a_side_thread(alice, settings):
    settings.ENHANCER_JOB_HEARTBEAT_SECONDS = 0.05
    job = make_job(alice, "contrast")
    claimed = liveness.claim(job.id)
    long_ago = timezone.now() - timedelta(hours=1)
    Job.objects.filter(id=job.id).update(heartbeat_at=long_ago)
    with liveness.Heartbeat(claimed):
        wait_for(lambda: Job.objects.get(id=job.id).heartbeat_at > long_ago, timeout=10)
    stopped_at = Job.objects.get(id=job.id).heartbeat_at
    time.sleep(0.2)
    assert Job.objects.get(id=job.id).heartbeat_at == stopped_at  # it stops with the block
