"""Who is calling, and may they call now: credentials lookup, daily quota and rate limit.

Every surface (native API, VK, Baidu, Meitu) goes through ``authenticate_*`` and then
``take_request``; each renders the refusals in its own wire format.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import ApiClient, hash_secret
from apps.common import metrics
from apps.imaging.errors import EnhancerError

from .models import BaiduAccessToken, UsageCounter

BAIDU_TOKEN_LIFETIME = timedelta(days=30)


class LimitExceeded(Exception):
    """``kind`` is "daily" (the day's quota is spent) or "rate" (too many this minute)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def by_token(token: str | None) -> ApiClient | None:
    if not token:
        return None
    return (
        ApiClient.objects.select_related("owner")
        .filter(token_hash=hash_secret(token), enabled=True, owner__is_active=True)
        .first()
    )


def by_key_and_secret(surface: str, key: str | None, secret: str | None) -> ApiClient | None:
    """Baidu API key + secret key, or Meitu api_key + api_secret."""
    if not key or not secret:
        return None
    client = (
        ApiClient.objects.select_related("owner")
        .filter(**{f"{surface}_api_key": key}, enabled=True, owner__is_active=True)
        .first()
    )
    if client is None:
        return None
    stored = getattr(client, f"{surface}_secret_hash")
    return client if secrets.compare_digest(stored, hash_secret(secret)) else None


def issue_baidu_token(client: ApiClient) -> tuple[str, int]:
    token = f"24.{secrets.token_hex(16)}.{int(BAIDU_TOKEN_LIFETIME.total_seconds())}"
    BaiduAccessToken.objects.create(
        client=client, token_hash=hash_secret(token), expires_at=timezone.now() + BAIDU_TOKEN_LIFETIME
    )
    BaiduAccessToken.objects.filter(client=client, expires_at__lt=timezone.now()).delete()
    return token, int(BAIDU_TOKEN_LIFETIME.total_seconds())


def by_baidu_token(token: str) -> tuple[ApiClient | None, bool]:
    """(client, expired): the client is None when the token is unknown or the client disabled."""
    row = (
        BaiduAccessToken.objects.select_related("client__owner")
        .filter(token_hash=hash_secret(token))
        .first()
    )
    if row is None or not row.client.enabled or not row.client.owner.is_active:
        return None, False
    if row.expires_at <= timezone.now():
        return row.client, True
    return row.client, False


def _take(client: ApiClient, bucket: str, limit: int, amount: int = 1) -> bool:
    if not UsageCounter.objects.filter(client=client, bucket=bucket).exists():
        try:
            with transaction.atomic():
                UsageCounter.objects.create(client=client, bucket=bucket)
        except IntegrityError:
            pass  # another process created it first; the guarded update below still counts
    taken = UsageCounter.objects.filter(
        client=client, bucket=bucket, count__lte=limit - amount
    ).update(count=F("count") + amount)
    return taken == 1


def take_request(client: ApiClient) -> None:
    """Count one request against the client's limits; raise LimitExceeded if none is left."""
    now = timezone.now()
    day, minute = f"d:{now:%Y-%m-%d}", f"m:{now:%Y-%m-%dT%H:%M}"
    if client.rate_limit_per_minute and not _take(client, minute, client.rate_limit_per_minute):
        metrics.refused(metrics.RATE_LIMITED)
        raise LimitExceeded("rate")
    if client.daily_quota and not _take(client, day, client.daily_quota):
        metrics.refused(EnhancerError.QUOTA_EXCEEDED)
        raise LimitExceeded("daily")
    # Old buckets are only history; dropping them keeps the table at two rows per client.
    UsageCounter.objects.filter(client=client).exclude(bucket__in=(day, minute)).delete()
    ApiClient.objects.filter(id=client.id).update(last_used_at=now)


def take_jobs(client: ApiClient, jobs: int) -> None:
    """The daily quota counts jobs: a request that makes ``jobs`` jobs takes ``jobs - 1`` more
    units than the one ``take_request`` took. All or nothing; raises LimitExceeded("daily")."""
    extra = jobs - 1
    if extra <= 0 or not client.daily_quota:
        return
    day = f"d:{timezone.now():%Y-%m-%d}"
    if not _take(client, day, client.daily_quota, extra):
        metrics.refused(EnhancerError.QUOTA_EXCEEDED)
        raise LimitExceeded("daily")
