"""Webhook calls at the end of a native-API job, signed with the client's webhook secret.

When a job finishes, its webhook is queued as its own Celery task on the ``webhooks`` queue
(``apps.api.tasks.deliver_webhook``), which has its own worker (``scripts/worker.sh webhooks``):
a slow receiver never holds a photo worker nor delays anyone's photos behind partners'
servers, and a job is announced once however often its end is signalled. The call goes through ``outbound`` (public
addresses only, no redirects, a total time limit) and is retried a few times with backoff.

Headers: ``X-Enhancer-Timestamp: <unix seconds>`` and ``X-Enhancer-Signature: sha256=<hex>``,
the HMAC-SHA256, keyed with the webhook secret, of ``<timestamp>.<raw body>``. A receiver checks
both with ``verify`` (or the same few lines in its own language) and refuses a timestamp older
than ``REPLAY_WINDOW_SECONDS``, so a captured call cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

from celery import signature
from django.db.models import F
from django.utils import timezone

from apps.uploads.models import Job

from .models import JobWebhook

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Enhancer-Signature"
TIMESTAMP_HEADER = "X-Enhancer-Timestamp"
REPLAY_WINDOW_SECONDS = 300
# Deliveries' own queue (settings.CELERY_TASK_ROUTES sends retries there too): light jobs
# shared a worker pool with them, and one partner's receiver waiting 60 s held other users'
# dehazes for as long.
QUEUE = "webhooks"
# The delivery task (tasks.deliver_webhook is registered under this name): queued by name, so
# this module needs nothing of the task that uses its signing and payload.
DELIVER_WEBHOOK = "apps.api.tasks.deliver_webhook"


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str,
           now: float | None = None, window: int = REPLAY_WINDOW_SECONDS) -> bool:
    """What a receiver does: the signature matches and the timestamp is recent."""
    try:
        age = (time.time() if now is None else now) - int(timestamp)
    except ValueError:
        return False
    if abs(age) > window:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def payload(job: Job) -> dict:
    return {
        "event": "job.finished",
        "id": str(job.uuid),
        "status": job.status,
        "operation": job.operation,
        "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
        "outputs": [output.kind for output in job.outputs.all()],
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def queue_delivery(sender, job_id: int, **kwargs) -> None:
    """Queue the job's webhook once; the job's own task does no network work for it.

    Receives ``uploads.signals.job_finished`` (connected in ``ApiConfig.ready``)."""
    hook = JobWebhook.objects.filter(job_id=job_id).only("id").first()
    if hook is None:
        return
    claimed = JobWebhook.objects.filter(id=hook.id, queued_at__isnull=True).update(
        queued_at=timezone.now()
    )
    if not claimed:
        return  # already queued by an earlier announcement
    try:
        signature(DELIVER_WEBHOOK, args=[hook.id], queue=QUEUE).apply_async()
    except Exception:
        # The job stands whatever happens to its webhook; the row says it was never sent.
        log.exception("could not queue the webhook of job %s", job_id)
        JobWebhook.objects.filter(id=hook.id).update(queued_at=None, last_status="not queued")


def record_attempt(hook_id: int, status: str, delivered: bool) -> None:
    JobWebhook.objects.filter(id=hook_id).update(
        attempts=F("attempts") + 1,
        last_status=status[:64],
        **({"delivered_at": timezone.now()} if delivered else {}),
    )
