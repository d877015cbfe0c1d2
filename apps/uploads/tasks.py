from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from apps.imaging.errors import EnhancerError

from . import services

log = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=services.MAX_RETRIES,
    soft_time_limit=settings.ENHANCER_JOB_SOFT_TIME_LIMIT,
    time_limit=settings.ENHANCER_JOB_SOFT_TIME_LIMIT + 60,
)
def process_job(self, job_id: int) -> None:
    redelivered = bool((self.request.delivery_info or {}).get("redelivered"))
    job = services.claim(job_id, redelivered=redelivered)
    if job is None:
        log.info("job %s is not queued any more; nothing to do", job_id)
        return
    try:
        services.run_job(job)
    except EnhancerError as error:
        if error.temporary and self.request.retries < self.max_retries:
            services.requeue(job_id, error)
            raise self.retry(countdown=5 * 2**self.request.retries) from error
        services.fail(job_id, error)
    except SoftTimeLimitExceeded:
        services.fail(job_id, EnhancerError("timeout", "The operation took too long and was stopped."))
    except Exception:
        log.exception("job %s crashed", job_id)
        services.fail(job_id, EnhancerError(EnhancerError.INTERNAL, "An internal error stopped the job."))
