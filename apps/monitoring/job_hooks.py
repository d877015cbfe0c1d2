"""Job counts from the uploads app's own events, so it needs to know nothing about metrics:
a job row created (counted once its transaction commits) and ``job_finished``."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from apps.uploads.models import Job
from apps.uploads.signals import job_finished

from . import metrics

log = logging.getLogger(__name__)


@receiver(post_save, sender=Job, dispatch_uid="monitoring.job_submitted")
def _submitted(sender, instance: Job, created: bool, **kwargs) -> None:
    if created:
        # A batch rolled back (storage full, broker down) was never submitted.
        transaction.on_commit(lambda: metrics.job_submitted(instance))


@receiver(job_finished, dispatch_uid="monitoring.job_finished")
def _finished(sender, job_id: int, **kwargs) -> None:
    job = Job.objects.filter(id=job_id).first()
    if job is not None:
        metrics.job_finished(job)
