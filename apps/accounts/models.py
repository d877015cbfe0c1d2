from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """The site's user; a custom model from day one so fields can be added without a rewrite."""

    def __str__(self) -> str:
        return self.username


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
    daily_quota = models.PositiveIntegerField(
        default=1000,
        help_text="Units of admitted work per UTC day (a job, a recognized photo, an enrolled "
        "face, a new person); 0 = unlimited",
    )
    rate_limit_per_minute = models.PositiveIntegerField(default=60, help_text="0 = unlimited")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "API client"

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
