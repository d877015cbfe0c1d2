"""Data lifecycle: jobs older than ENHANCER_RETENTION_DAYS go, with their inputs and outputs.

Run hourly by Celery beat (tasks.delete_expired_jobs). Deleting goes through the same path as a
user's own delete, so the files follow the rows (cleanup.py). Face registries are kept: they are
the user's data, not job by-products.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from . import services
from .models import Job

log = logging.getLogger(__name__)
BATCH = 200


def delete_expired_jobs(now: datetime | None = None) -> int:
    """Delete every job created more than ENHANCER_RETENTION_DAYS ago; 0 days keeps all."""
    days = int(settings.ENHANCER_RETENTION_DAYS)
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = 0
    while True:
        batch = list(Job.objects.filter(created_at__lt=cutoff).order_by("id")[:BATCH])
        if not batch:
            break
        for job in batch:
            services.delete_job(job)
        deleted += len(batch)
    if deleted:
        log.info("retention: deleted %d jobs created before %s", deleted, cutoff.isoformat())
    return deleted
