"""Keeping jobs from getting stuck: who runs a job, whether it is still alive, and what to do
when it is not.

A worker child killed by SIGKILL or the OOM killer never reports back. Celery redelivers its
message on some transports and not on others (the filesystem broker loses it with the process;
Redis returns it after the visibility timeout; the ``redelivered`` flag is not set everywhere),
so nothing here relies on the broker. Instead:

* the process running a job writes ``worker`` ("host:pid") and a ``heartbeat_at`` every few
  seconds (:class:`Heartbeat`);
* a delivery that finds its job ``running`` takes it over only when that worker is provably
  gone: a silent heartbeat, or a pid on this host that no longer exists (:func:`abandoned`);
* the beat task :func:`sweep_stale_jobs` requeues jobs whose heartbeat went silent, for the
  transports that never redeliver;
* every takeover counts an attempt; a job that lost its worker ``ENHANCER_JOB_MAX_ATTEMPTS``
  times fails with ``worker_lost`` instead of killing workers forever.

Each claim increments ``attempts``, and a worker writes its results only while the row still
carries the attempt number it claimed, so a worker that was wrongly presumed dead (a long pause)
cannot store a second set of outputs next to its successor's.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.imaging.errors import EnhancerError, gettext_noop

from . import running, services
from .models import Job

log = logging.getLogger(__name__)


def worker_name() -> str:
    # Read at claim time, not import time: prefork children have their own pids.
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            # A killed child stays a zombie until its parent reaps it: that is gone, too.
            state = handle.read().rsplit(b")", 1)[1].split()[0]
        return state in (b"Z", b"X")
    except FileNotFoundError:
        return True
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def abandoned(job: Job) -> bool:
    """True when the worker that claimed this running job can no longer finish it."""
    stale_before = timezone.now() - timedelta(seconds=settings.ENHANCER_JOB_STALE_SECONDS)
    last_sign = job.heartbeat_at or job.started_at
    if last_sign is None or last_sign < stale_before:
        return True
    host, _, pid = job.worker.rpartition(":")
    # Only a process on this machine can be looked up; elsewhere the heartbeat decides.
    return host == socket.gethostname() and pid.isdigit() and _process_gone(int(pid))


def worker_lost_error(attempts: int) -> EnhancerError:
    return EnhancerError(
        EnhancerError.WORKER_LOST,
        gettext_noop(
            "The worker processing this photo stopped %(attempts)s times (it may need more memory "
            "or time than this server has), so it was not tried again."
        ),
        {"attempts": attempts},
    )


def claim(job_id: int) -> Job | None:
    """Move the job to ``running`` for this process; None when there is nothing to do here.

    Claimable: a queued job, or a running one whose worker is gone (see :func:`abandoned`).
    A job that already lost its worker ``ENHANCER_JOB_MAX_ATTEMPTS`` times is failed instead.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(id=job_id).first()
        if job is None:
            log.info("job %s no longer exists; nothing to do", job_id)
            return None
        if job.status == Job.Status.RUNNING:
            if not abandoned(job):
                log.info("job %s is running on %s; this delivery is dropped", job_id, job.worker)
                return None
            if job.attempts >= settings.ENHANCER_JOB_MAX_ATTEMPTS:
                running.fail(job_id, worker_lost_error(job.attempts))
                return None
            log.warning("job %s lost its worker %s; taking it over", job_id, job.worker)
        elif job.status != Job.Status.QUEUED:
            log.info("job %s is %s; nothing to do", job_id, job.status)
            return None
        now = timezone.now()
        Job.objects.filter(id=job_id).update(
            status=Job.Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            worker=worker_name()[:255],
            attempts=job.attempts + 1,
        )
        job.refresh_from_db()
    return job


class Heartbeat:
    """While the block runs, a side thread marks the job alive every few seconds.

    The thread has its own database connection (Django's are per thread) and closes it when it
    stops; a lost connection is reopened on the next beat.
    """

    def __init__(self, job: Job) -> None:
        self.job_id = job.id
        self.attempt = job.attempts
        self.interval = float(settings.ENHANCER_JOB_HEARTBEAT_SECONDS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job.id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 30)

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    Job.objects.filter(
                        id=self.job_id, status=Job.Status.RUNNING, attempts=self.attempt
                    ).update(heartbeat_at=timezone.now())
                except DatabaseError as error:
                    log.warning("heartbeat of job %s not written: %s", self.job_id, error)
                    connection.close()
        finally:
            connection.close()


def sweep_stale_jobs() -> dict[str, int]:
    """Requeue running jobs whose worker is gone; fail those out of attempts.

    The message is published inside the row's transaction: if the broker is down the row stays
    ``running`` and the next sweep tries again; a worker that reads the row before the commit
    sees a stale running job, which it may take over just the same.
    """
    stale_before = timezone.now() - timedelta(seconds=settings.ENHANCER_JOB_STALE_SECONDS)
    candidates = list(
        Job.objects.filter(status=Job.Status.RUNNING)
        .filter(
            Q(heartbeat_at__lt=stale_before)
            | Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
            | Q(heartbeat_at__isnull=True, started_at__isnull=True)
        )
        .values_list("id", flat=True)[:500]
    )
    counts = {"requeued": 0, "failed": 0}
    for job_id in candidates:
        try:
            with transaction.atomic():
                job = Job.objects.select_for_update().filter(id=job_id).first()
                if job is None or job.status != Job.Status.RUNNING or not abandoned(job):
                    continue
                if job.attempts >= settings.ENHANCER_JOB_MAX_ATTEMPTS:
                    running.fail(job_id, worker_lost_error(job.attempts))
                    counts["failed"] += 1
                    continue
                Job.objects.filter(id=job_id).update(
                    status=Job.Status.QUEUED,
                    worker="",
                    heartbeat_at=None,
                    progress=0,
                    **running.error_fields(
                        EnhancerError(
                            EnhancerError.WORKER_LOST,
                            gettext_noop("Retrying: the worker processing it stopped."),
                        )
                    ),
                )
                services.publish(job)
                counts["requeued"] += 1
        except Exception:
            log.exception("could not requeue stale job %s; the next sweep tries again", job_id)
    if any(counts.values()):
        log.warning("stale jobs: %(requeued)d requeued, %(failed)d failed", counts)
    return counts
