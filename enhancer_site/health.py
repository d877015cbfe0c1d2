"""``/healthz``: is the site able to do its work right now?"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps import providers
from apps.api.compat import vk
from apps.face_registry import services as face_services
from apps.imaging import faces as face_engine
from apps.imaging import networks, operations

from .celery import app as celery_app


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "vendor": connection.vendor}
    except Exception as error:  # noqa: BLE001 - any failure means "down", reported as text
        return {"ok": False, "error": str(error)}


def _broker() -> dict:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport_cls
        return {"ok": True, "transport": str(transport)}
    except Exception as error:  # noqa: BLE001
        return {"ok": False, "error": str(error)}


_WORKERS_KEY = "enhancer:healthz:workers"


def _workers() -> dict:
    """The worker ping, reused for a while: it waits a full second for replies, and /healthz is
    public, so each call must not cost a web thread that second."""
    cached = cache.get(_WORKERS_KEY)
    if cached is not None:
        return cached
    result = _ping_workers()
    # A missing worker is looked for again soon, so its return shows quickly.
    seconds = settings.ENHANCER_HEALTHZ_CACHE_SECONDS if result["ok"] else 2
    cache.set(_WORKERS_KEY, result, seconds)
    return result


def _ping_workers() -> dict:
    try:
        replies = celery_app.control.ping(timeout=1.0) or []
    except Exception as error:  # noqa: BLE001
        return {"ok": False, "count": 0, "error": str(error)}
    names = sorted(name for reply in replies for name in reply)
    return {"ok": bool(names), "count": len(names), "names": names}


def _operations() -> dict:
    report = {}
    for name in operations.REGISTRY:
        provider = providers.for_operation(name)
        reason = provider.unavailable_reason(name)
        report[name] = {"available": reason is None, "provider": provider.name, "reason": reason}
    return report


def _faces() -> dict:
    """Face analysis, and each optional attribute: absent models are said, like operations'."""
    reason = face_engine.available()
    return {
        "available": reason is None,
        "reason": reason,
        "attributes": {
            name: {"available": why is None, "reason": why}
            for name, why in face_services.attributes_unavailable().items()
        },
        "person_fields": vk.person_fields() if reason is None else [],
    }


def _may_see_details(request: HttpRequest) -> bool:
    """Host names, error texts and the model inventory are for operators: staff, or a monitor
    that sends ``Authorization: Bearer <ENHANCER_HEALTHZ_TOKEN>``."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    token = settings.ENHANCER_HEALTHZ_TOKEN
    sent = request.headers.get("Authorization", "")
    return bool(token) and secrets.compare_digest(sent.encode(), f"Bearer {token}".encode())


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database, broker = _database(), _broker()
    workers = _workers() if broker["ok"] else {"ok": False, "count": 0}
    healthy = database["ok"] and broker["ok"]
    body: dict = {
        "status": "ok" if healthy and workers["ok"] else ("degraded" if healthy else "down"),
    }
    if _may_see_details(request):
        body.update(database=database, broker=broker, workers=workers,
                    operations=_operations(), faces=_faces(), upscale=networks.describe())
    # The web tier itself is serving when database and broker answer; a missing worker is
    # reported, not a reason for a load balancer to take the site out.
    return JsonResponse(body, status=200 if healthy else 503)
