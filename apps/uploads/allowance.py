"""Daily allowances, taken by every path that creates work: the jobs a user may start without
an API client (web pages, the API with a session): ``ENHANCER_WEB_DAILY_JOBS``; and partners'
clients' own daily quotas (api/access.py), reached through :func:`take_client`.

Both are taken inside the transaction that stores the work, after every refusal the input can
get, so only admitted work is counted and a failed submission gives its units back.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.common import metrics
from apps.imaging.errors import EnhancerError, gettext_noop

from .models import WebUsage

# The client quota lives with the credentials in apps/api, above this app: apps.api registers
# its counter here when it loads (ApiConfig.ready), so a job path here — a re-run from the
# history page included — counts a client's jobs without importing upwards.
_client_counter: Callable[[object, int], None] | None = None


def register_client_counter(counter: Callable[[object, int], None]) -> None:
    """``counter(client, units)`` counts all or nothing; raises EnhancerError QUOTA_EXCEEDED
    or CLIENT_DISABLED."""
    global _client_counter
    _client_counter = counter


def take_client(client, units: int) -> None:
    """Count ``units`` of admitted work (jobs, recognized photos, new persons) against an API
    client's daily quota. Call it inside the transaction that stores the work."""
    if units <= 0:
        return
    if _client_counter is None:
        raise RuntimeError("apps.api is not loaded: no API client quota to count against")
    _client_counter(client, units)


def take(user, jobs: int) -> None:
    """Count ``jobs`` against the user's allowance for today; raises EnhancerError
    (QUOTA_EXCEEDED). Call it inside the transaction that stores the jobs, so a failed
    submission gives its units back."""
    limit = settings.ENHANCER_WEB_DAILY_JOBS
    if not limit or jobs <= 0:
        return
    day = timezone.now().date()
    if not WebUsage.objects.filter(user=user, day=day).exists():
        try:
            with transaction.atomic():
                WebUsage.objects.create(user=user, day=day)
        except IntegrityError:
            pass  # created meanwhile by a concurrent request
    taken = WebUsage.objects.filter(user=user, day=day, count__lte=limit - jobs).update(
        count=F("count") + jobs
    )
    WebUsage.objects.filter(user=user, day__lt=day).delete()  # only today's row matters
    if not taken:
        used = WebUsage.objects.filter(user=user, day=day).values_list("count", flat=True).first()
        left = max(limit - (used or 0), 0)
        refusal = EnhancerError(
            EnhancerError.QUOTA_EXCEEDED,
            gettext_noop(
                "Your daily allowance of %(limit)s jobs is spent (%(left)s left today, %(asked)s "
                "asked). It renews at midnight UTC."
            ),
            {"limit": limit, "left": left, "asked": jobs},
        )
        metrics.refused(refusal.code)
        raise refusal
