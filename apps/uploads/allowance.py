"""The daily allowance of jobs a user may start without an API client (web pages, the API with
a session): ``ENHANCER_WEB_DAILY_JOBS``. Partners' clients have their own quotas (api/access.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from apps.common import metrics
from apps.imaging.errors import EnhancerError

from .models import WebUsage


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
            f"Your daily allowance of {limit} jobs is spent ({left} left today, {jobs} asked). "
            "It renews at midnight UTC.",
        )
        metrics.refused(refusal.code)
        raise refusal
