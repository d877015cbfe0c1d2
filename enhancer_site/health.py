"""``/healthz``: is the site able to do its work right now?"""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps import providers
from apps.imaging import operations

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


def _workers() -> dict:
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


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database, broker = _database(), _broker()
    workers = _workers() if broker["ok"] else {"ok": False, "count": 0}
    healthy = database["ok"] and broker["ok"]
    body = {
        "status": "ok" if healthy and workers["ok"] else ("degraded" if healthy else "down"),
        "database": database,
        "broker": broker,
        "workers": workers,
        "operations": _operations(),
    }
    # The web tier itself is serving when database and broker answer; a missing worker is
    # reported, not a reason for a load balancer to take the site out.
    return JsonResponse(body, status=200 if healthy else 503)
