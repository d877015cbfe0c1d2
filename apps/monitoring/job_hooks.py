"""Job counts from the uploads app's own event ``job_finished``, so it need not know metrics.
(Submissions are counted where the batch is published, ``services._enqueue_on_commit``.)"""

from __future__ import annotations

from django.dispatch import receiver

from apps.common import metrics
from apps.uploads.models import Job
from apps.uploads.signals import job_finished


@receiver(job_finished, dispatch_uid="monitoring.job_finished")
def _finished(sender, job_id: int, **kwargs) -> None:
    job = Job.objects.filter(id=job_id).first()
    if job is not None:
        metrics.job_finished(job)
