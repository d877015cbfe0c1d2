"""Webhook calls at the end of a native-API job, signed with the client's webhook secret.

The receiver runs in the worker, after the job row is committed. The signature header is
``X-Enhancer-Signature: sha256=<hex HMAC-SHA256 of the raw body>``; a client checks it with its
webhook secret (shown once on the developer page).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

import requests
from django.dispatch import receiver
from django.utils import timezone

from apps.uploads.models import Job
from apps.uploads.signals import job_finished

from .models import JobWebhook

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Enhancer-Signature"
TIMEOUT_SECONDS = 10


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


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


@receiver(job_finished, dispatch_uid="api.webhooks.deliver")
def deliver(sender, job_id: int, **kwargs) -> None:
    hook = JobWebhook.objects.select_related("job", "client").filter(job_id=job_id).first()
    if hook is None or hook.delivered_at is not None:
        return
    body = json.dumps(payload(hook.job), separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(hook.client.webhook_secret, body),
        "User-Agent": "Enhancer-Webhook/1",
    }
    try:
        response = requests.post(hook.url, data=body, headers=headers, timeout=TIMEOUT_SECONDS)
        status = str(response.status_code)
    except requests.RequestException as error:
        # A webhook is a courtesy: the job stands whatever the receiver does.
        log.warning("webhook for job %s to %s failed: %s", hook.job.uuid, hook.url, error)
        status = type(error).__name__
    JobWebhook.objects.filter(id=hook.id).update(delivered_at=timezone.now(), last_status=status[:64])
