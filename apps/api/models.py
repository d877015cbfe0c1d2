from __future__ import annotations

from django.db import models


class BaiduAccessToken(models.Model):
    """An access_token issued by the Baidu-compatible /oauth/2.0/token; only its hash is kept."""

    client = models.ForeignKey(
        "accounts.ApiClient", on_delete=models.CASCADE, related_name="baidu_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Baidu token of {self.client} until {self.expires_at:%Y-%m-%d}"


class UsageCounter(models.Model):
    """Requests counted per client and time bucket ("d:2026-01-31", "m:2026-01-31T10:05").

    A database row, not a per-process cache, so every web process shares one count; the
    increment is a guarded UPDATE (``count < limit``), so two processes cannot both take the
    last unit.
    """

    client = models.ForeignKey(
        "accounts.ApiClient", on_delete=models.CASCADE, related_name="usage"
    )
    bucket = models.CharField(max_length=32)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "bucket"], name="usage_unique_bucket"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.bucket}: {self.count}"


class IdempotentRequest(models.Model):
    """A native-API job creation remembered by its Idempotency-Key, per client."""

    client = models.ForeignKey(
        "accounts.ApiClient", on_delete=models.CASCADE, related_name="idempotent"
    )
    key = models.CharField(max_length=255)
    job_uuids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="idempotency_unique_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} of {self.client_id}"


class JobWebhook(models.Model):
    """Where to announce a job's end; one row per job created with ``webhook_url``."""

    job = models.OneToOneField("uploads.Job", on_delete=models.CASCADE, related_name="webhook")
    client = models.ForeignKey(
        "accounts.ApiClient", on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=2000)
    # Set once, by a guarded update, when the delivery task is queued: a job announced twice
    # still gets one delivery.
    queued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True, help_text="When a 2xx answered")
    last_status = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"webhook of job {self.job_id} → {self.url}"
