"""Who is calling, and may they call now: credentials lookup, daily quota and rate limit.

Every surface (native API, VK, Baidu, Meitu) goes through ``authenticate_*`` and then
``take_request``; the work they admit is counted by ``take_work`` (registered with
apps.uploads.allowance, so every job path counts alike). Each surface renders the refusals in
its own wire format.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import ApiClient, hash_secret
from apps.common import metrics
from apps.imaging.errors import EnhancerError, gettext_noop

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


def _day_bucket() -> str:
    return f"d:{timezone.now():%Y-%m-%d}"


def take_request(client: ApiClient, work: bool = True) -> None:
    """Count one request against the client's rate limit and, for a request that asks for
    ``work``, refuse it when today's quota is already spent; raise LimitExceeded. The quota
    itself counts admitted work only (:func:`take_work`, when the work is stored): a refused
    request costs no unit, and reading what was made (polling a job) costs none either."""
    now = timezone.now()
    day, minute = _day_bucket(), f"m:{now:%Y-%m-%dT%H:%M}"
    if client.rate_limit_per_minute and not _take(client, minute, client.rate_limit_per_minute):
        metrics.refused(metrics.RATE_LIMITED)
        raise LimitExceeded("rate")
    if work and client.daily_quota and UsageCounter.objects.filter(
        client=client, bucket=day, count__gte=client.daily_quota
    ).exists():
        metrics.refused(EnhancerError.QUOTA_EXCEEDED)
        raise LimitExceeded("daily")
    # Old buckets are only history; dropping them keeps the table at two rows per client.
    UsageCounter.objects.filter(client=client).exclude(bucket__in=(day, minute)).delete()
    ApiClient.objects.filter(id=client.id).update(last_used_at=now)


def take_work(client: ApiClient, units: int) -> None:
    """Count ``units`` of admitted work (a job each, a recognized photo, a new person) against
    the client's daily quota, all or nothing; inside the transaction that stores the work.

    The client is read again: work created for it later (a re-run from the history page) must
    be refused once it is disabled or revoked, as its own requests are.
    """
    usable = ApiClient.objects.filter(id=client.id, enabled=True, owner__is_active=True)
    quota = usable.values_list("daily_quota", flat=True).first()
    if quota is None:
        raise EnhancerError(
            EnhancerError.CLIENT_DISABLED,
            gettext_noop("The API client “%(name)s” is disabled or revoked; its work cannot run again."),
            {"name": client.name},
        )
    if quota and not _take(client, _day_bucket(), quota, units):
        metrics.refused(EnhancerError.QUOTA_EXCEEDED)
        raise EnhancerError(
            EnhancerError.QUOTA_EXCEEDED,
            gettext_noop(
                "The daily quota of %(limit)s units of the API client “%(name)s” is spent. "
                "It renews at midnight UTC."
            ),
            {"limit": quota, "name": client.name},
        )
