from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class ApiClient(models.Model):
    """A partner's credentials. Secrets are stored hashed; the plain token is shown once."""

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_clients"
    )
    enabled = models.BooleanField(default=True)
    # Our own token (native API "Token …", VK oauth_token): only its SHA-256 is kept.
    token_hash = models.CharField(max_length=64, unique=True)
    token_prefix = models.CharField(max_length=8, help_text="First characters, to tell tokens apart")
    # Baidu: API key (public id) + secret key; Meitu: api_key (public id) + api_secret.
    baidu_api_key = models.CharField(max_length=64, unique=True)
    baidu_secret_hash = models.CharField(max_length=64)
    meitu_api_key = models.CharField(max_length=64, unique=True)
    meitu_secret_hash = models.CharField(max_length=64)
    # Signs webhook calls (HMAC-SHA256); kept in clear because the server must compute the MAC.
    webhook_secret = models.CharField(max_length=64, blank=True)
    daily_quota = models.PositiveIntegerField(default=1000, help_text="Requests per UTC day; 0 = none")
    rate_limit_per_minute = models.PositiveIntegerField(default=60, help_text="0 = unlimited")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"

    @classmethod
    def issue(cls, owner, name: str, **fields) -> tuple[ApiClient, dict[str, str]]:
        """Create a client; returns it with the plain secrets, which are never stored."""
        token = secrets.token_urlsafe(32)
        baidu_secret = secrets.token_urlsafe(24)
        meitu_secret = secrets.token_urlsafe(24)
        webhook_secret = secrets.token_urlsafe(32)
        client = cls.objects.create(
            owner=owner,
            name=name,
            token_hash=hash_secret(token),
            token_prefix=token[:8],
            baidu_api_key=secrets.token_hex(12),
            baidu_secret_hash=hash_secret(baidu_secret),
            meitu_api_key=secrets.token_hex(12),
            meitu_secret_hash=hash_secret(meitu_secret),
            webhook_secret=webhook_secret,
            **fields,
        )
        return client, {
            "token": token,
            "baidu_api_key": client.baidu_api_key,
            "baidu_secret_key": baidu_secret,
            "meitu_api_key": client.meitu_api_key,
            "meitu_api_secret": meitu_secret,
            "webhook_secret": webhook_secret,
        }


class BaiduAccessToken(models.Model):
    """An access_token issued by the Baidu-compatible /oauth/2.0/token; only its hash is kept."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="baidu_tokens")
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

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="usage")
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

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="idempotent")
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
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=2000)
    # Set once, by a guarded update, when the delivery task is queued: a job announced twice
    # still gets one delivery.
    queued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True, help_text="When a 2xx answered")
    last_status = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"webhook of job {self.job_id} → {self.url}"


class WebUsage(models.Model):
    """Jobs a user started from the web pages on one UTC day (``ENHANCER_WEB_DAILY_JOBS``).

    A counter rather than a count of Job rows, so deleting jobs does not give the quota back.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="web_usage")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="web_usage_unique_day"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}: {self.count}"
