"""/healthz tells the public only whether the site works; operators (staff, or a monitor with
the health token) see the details; the worker ping is not paid on every call."""

from __future__ import annotations

import pytest

from enhancer_site import health

pytestmark = pytest.mark.django_db

LEAKY = "connection to server at db.internal.example (10.0.0.7) failed: password authentication"


@pytest.fixture
def leaky_failure(monkeypatch):
    monkeypatch.setattr(health, "_database", lambda: {"ok": False, "error": LEAKY})


def test_the_public_sees_only_the_status(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded"}  # no worker runs in this test


def test_the_public_sees_no_error_text_when_it_is_down(client, leaky_failure):
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (503, {"status": "down"})
    assert "10.0.0.7" not in response.content.decode()


def test_staff_see_the_details(client, django_user_model, leaky_failure):
    staff = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    client.force_login(staff)
    body = client.get("/healthz").json()
    assert body["database"] == {"ok": False, "error": LEAKY}
    assert {"broker", "workers", "operations"} <= set(body)


def test_a_monitor_with_the_token_sees_the_details(client, settings):
    settings.ENHANCER_HEALTHZ_TOKEN = "health-token-123"
    assert "workers" in client.get("/healthz", HTTP_AUTHORIZATION="Bearer health-token-123").json()
    assert client.get("/healthz", HTTP_AUTHORIZATION="Bearer wrong").json() == {"status": "degraded"}
    settings.ENHANCER_HEALTHZ_TOKEN = ""  # no token configured: no bearer is accepted
    assert client.get("/healthz", HTTP_AUTHORIZATION="Bearer ").json() == {"status": "degraded"}


def test_a_signed_in_user_who_is_not_staff_sees_only_the_status(alice_client):
    assert alice_client.get("/healthz").json() == {"status": "degraded"}


def test_the_worker_ping_is_reused_between_calls(client, monkeypatch, settings):
    settings.ENHANCER_HEALTHZ_CACHE_SECONDS = 60
    pings = []
    monkeypatch.setattr(health.celery_app.control, "ping",
                        lambda timeout: pings.append(timeout) or [{"w1@host": {"ok": "pong"}}])
    for _ in range(5):
        assert client.get("/healthz").json() == {"status": "ok"}
    assert len(pings) == 1
