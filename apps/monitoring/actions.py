"""What an operator may do to a job from the operations page."""

from __future__ import annotations

import logging

from django.db import transaction

from apps.imaging.errors import EnhancerError, gettext_noop
from apps.uploads import running, services
from apps.uploads.models import Job

log = logging.getLogger(__name__)

def cancel(job: Job, by: str) -> bool:
    """End a queued job before any worker takes it; False when it is no longer queued.

    The job ends as failed with the code ``cancelled`` (its owner's history says "cancelled",
    an API client sees a failed job with that code), so every surface already knows what to
    do with it. Its message may still be in the broker: the worker that gets it finds the job
    finished and drops it (``liveness.claim`` takes only queued jobs).
    """
    with transaction.atomic():
        locked = Job.objects.select_for_update().filter(id=job.id, status=Job.Status.QUEUED)
        if not locked.exists():
            return False
        running.fail(
            job.id,
            EnhancerError(
                EnhancerError.CANCELLED, gettext_noop("An operator cancelled the job before it ran.")
            ),
        )
    log.info("job %s cancelled by %s", job.uuid, by)
    return True


def retry(job: Job, by: str) -> Job:
    """A failed job again, as its owner's "Run again" does it (same checks, same quota)."""
    new = services.rerun(job)
    log.info("job %s retried by %s as %s", job.uuid, by, new.uuid)
    return new
