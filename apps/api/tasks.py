"""The API's background work: webhook delivery (see webhooks.py)."""

from __future__ import annotations

import json
import logging
import time

from celery import shared_task
from django.conf import settings

from apps.providers.http import redact_url

from . import outbound
from .models import JobWebhook
from .webhooks import (
    DELIVER_WEBHOOK,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    payload,
    record_attempt,
    sign,
)

log = logging.getLogger(__name__)

# Answers worth another try; any other 4xx or 3xx means the receiver's URL or code is wrong,
# and repeating the call cannot fix it.
RETRYABLE = {408, 425, 429}


@shared_task(
    name=DELIVER_WEBHOOK,  # webhooks.queue_delivery queues it by this name
    bind=True,
    acks_late=True,
    # The call itself stops at ENHANCER_OUTBOUND_TIMEOUT; these only catch the unforeseen.
    soft_time_limit=settings.ENHANCER_OUTBOUND_TIMEOUT + 20,
    time_limit=settings.ENHANCER_OUTBOUND_TIMEOUT + 40,
)
def deliver_webhook(self, hook_id: int) -> str:
    hook = JobWebhook.objects.select_related("job", "client").filter(id=hook_id).first()
    if hook is None or hook.delivered_at is not None:
        return "nothing to do"
    if not hook.client.enabled:
        record_attempt(hook.id, "not sent: the client is disabled", delivered=False)
        return "client disabled"
    body = json.dumps(payload(hook.job), separators=(",", ":")).encode()
    # Signed at each attempt, so a retry carries a fresh timestamp inside the replay window.
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(hook.client.webhook_secret, timestamp, body),
        "User-Agent": "Enhancer-Webhook/2",
    }
    try:
        answer = outbound.request("POST", hook.url, body=body, headers=headers)
    except outbound.OutboundError as error:
        status = f"refused: {error.message}" if error.refused else error.message
        retry = not error.refused
    else:
        status = str(answer.status)
        if 200 <= answer.status < 300:
            record_attempt(hook.id, status, delivered=True)
            return status
        retry = answer.status >= 500 or answer.status in RETRYABLE
    record_attempt(hook.id, status, delivered=False)
    # The URL's query may hold the receiver's own token: only scheme, host and path are logged.
    log.warning("webhook of job %s to %s: %s (attempt %d)", hook.job.uuid,
                redact_url(hook.url), status, self.request.retries + 1)
    attempts = max(int(settings.ENHANCER_WEBHOOK_ATTEMPTS), 1)
    if retry and self.request.retries + 1 < attempts:
        raise self.retry(countdown=30 * 2**self.request.retries, max_retries=attempts - 1)
    return status
