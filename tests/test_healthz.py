from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_healthz_reports_database_broker_and_operations(admin_client):
    response = admin_client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert body["operations"]["dehaze"] == {"available": True, "provider": "local", "reason": None}
    assert body["operations"]["contrast"]["available"] is True
    # No worker runs in this test: reported, but the web tier still answers 200.
    assert body["workers"]["ok"] is False
    assert body["status"] == "degraded"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_healthz_sees_a_live_worker(admin_client, celery_worker_process):
    body = admin_client.get("/healthz").json()
    assert body["workers"]["ok"] is True and body["workers"]["count"] >= 1
    assert body["status"] == "ok"


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    from enhancer_site import health

    monkeypatch.setattr(health, "_database", lambda: {"ok": False, "error": "down"})
    monkeypatch.setattr(health, "_workers", lambda: {"ok": False, "count": 0})
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "down"
