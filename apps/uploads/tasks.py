from __future__ import annotations

import logging
from contextlib import nullcontext

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

from apps.common import metrics
from apps.imaging.errors import EnhancerError, gettext_noop

from . import liveness, retention, running, services

log = logging.getLogger(__name__)


@shared_task(
    name=services.PROCESS_JOB,  # services.publish sends it by this name
    bind=True,
    acks_late=True,
    max_retries=running.MAX_RETRIES,
    soft_time_limit=settings.ENHANCER_JOB_SOFT_TIME_LIMIT,
    time_limit=settings.ENHANCER_JOB_SOFT_TIME_LIMIT + 60,
)
def process_job(self, job_id: int) -> None:
    # Any delivery may claim: a redelivery (or a duplicate) takes over only a job whose worker
    # is gone, whatever the transport says (liveness.py).
    job = liveness.claim(job_id)
    if job is None:
        return
    metrics.job_started(job)
    attempt = job.attempts
    # In-process (eager) runs cannot lose their worker; real ones say they are alive.
    heartbeat = nullcontext() if self.request.is_eager else liveness.Heartbeat(job)
    try:
        _run(job, heartbeat)
    except EnhancerError as error:
        if error.temporary and self.request.retries < self.max_retries:
            running.requeue(job_id, error, attempt)
            raise self.retry(countdown=5 * 2**self.request.retries) from error
        running.fail(job_id, error, attempt)
    except SoftTimeLimitExceeded:
        stopped = EnhancerError(
            EnhancerError.TIMEOUT, gettext_noop("The operation took too long and was stopped.")
        )
        running.fail(job_id, stopped, attempt)
    except Exception:
        log.exception("job %s crashed", job_id)
        running.fail(
            job_id,
            EnhancerError(EnhancerError.INTERNAL, gettext_noop("An internal error stopped the job.")),
            attempt,
        )


def _run(job, heartbeat) -> None:
    try:
        with heartbeat:
            running.run_job(job)
    except (OperationalError, InterfaceError) as error:
        # The database went away under the job (restart, failover, killed connection): a new
        # connection and a later attempt, as for any temporary error; if that fails too the
        # sweeper finds the job.
        log.warning("job %s lost its database connection: %s", job.id, error)
        connection.close()
        raise EnhancerError(
            EnhancerError.TEMPORARY, gettext_noop("The database connection was lost.")
        ) from error


@shared_task(ignore_result=True)
def sweep_stale_jobs() -> dict[str, int]:
    """Beat, every ENHANCER_SWEEP_SECONDS: requeue or fail jobs whose worker is gone."""
    return liveness.sweep_stale_jobs()


@shared_task(ignore_result=True)
def delete_expired_jobs() -> int:
    """Beat, hourly: delete jobs older than ENHANCER_RETENTION_DAYS with their files."""
    return retention.delete_expired_jobs()
