"""``/metrics`` for Prometheus, and the operations page of the admin."""

from __future__ import annotations

import ipaddress
import secrets

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from apps.common import metrics
from apps.common.addresses import client_address
from apps.imaging.errors import EnhancerError
from apps.uploads import queue
from apps.uploads.error_text import error_text
from apps.uploads.models import Job

from . import actions, state
from .collector import DatabaseCollector

_FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")


def _may_scrape(request: HttpRequest) -> bool:
    """A bearer token (``ENHANCER_METRICS_TOKEN``), or a caller from the allowed networks
    (``ENHANCER_METRICS_ALLOWED_NETWORKS``, loopback by default)."""
    token = settings.ENHANCER_METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and secrets.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    if not settings.ENHANCER_TRUSTED_PROXIES and any(
        name in request.META for name in _FORWARDING_HEADERS
    ):
        # A proxy that nobody declared (a web server on the same host, say) makes every
        # visitor look like loopback: a forwarded request is judged by its token alone.
        return False
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in network for network in settings.ENHANCER_METRICS_ALLOWED_NETWORKS)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    # Anyone else is told nothing, not even that the page exists.
    if not _may_scrape(request):
        raise Http404
    return HttpResponse(metrics.exposition(DatabaseCollector()), content_type=CONTENT_TYPE_PLAIN_0_0_4)


def _staff_view(view):
    return admin.site.admin_view(view)


@never_cache
def operations(request: HttpRequest) -> TemplateResponse:
    if not request.user.has_perm("uploads.view_job"):
        raise PermissionDenied
    queued = queue.with_queue(
        Job.objects.filter(status=Job.Status.QUEUED).select_related("owner").order_by("id")
    )[:50]
    running = Job.objects.filter(status=Job.Status.RUNNING).select_related("owner").order_by("id")
    context = {
        **admin.site.each_context(request),
        "title": "Operations",
        "now": timezone.now(),
        "queues": state.queues(),
        "workers": state.workers(),
        "failures": state.failures(),
        "drift": state.cost_drift(),
        "queued": list(queued),
        "running": list(running[:50]),
        "stale_seconds": settings.ENHANCER_JOB_STALE_SECONDS,
        "may_change": request.user.has_perm("uploads.change_job"),
    }
    return TemplateResponse(request, "monitoring/operations.html", context)


def _job_action(request: HttpRequest, job_uuid) -> Job:
    if not request.user.has_perm("uploads.change_job"):
        raise PermissionDenied
    return get_object_or_404(Job, uuid=job_uuid)


@require_POST
def cancel_job(request: HttpRequest, job_uuid) -> HttpResponse:
    job = _job_action(request, job_uuid)
    if actions.cancel(job, by=request.user.get_username()):
        messages.success(request, f"Job {job.uuid} was cancelled.")
    else:
        messages.error(request, f"Job {job.uuid} is no longer queued; nothing was cancelled.")
    return redirect("admin_operations")


@require_POST
def retry_job(request: HttpRequest, job_uuid) -> HttpResponse:
    job = _job_action(request, job_uuid)
    if job.status != Job.Status.FAILED:
        messages.error(request, f"Job {job.uuid} has not failed; only failed jobs are retried.")
        return redirect("admin_operations")
    try:
        new = actions.retry(job, by=request.user.get_username())
    except EnhancerError as error:
        messages.error(request, f"Job {job.uuid} was not retried: {error_text(error)}")
        return redirect("admin_operations")
    messages.success(request, f"Job {job.uuid} was queued again as {new.uuid}.")
    return redirect("admin_operations")


operations_view = _staff_view(operations)
cancel_view = _staff_view(cancel_job)
retry_view = _staff_view(retry_job)
