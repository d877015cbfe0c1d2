"""The developer page: create a client (secrets shown once), list, revoke; others' stay private."""

from __future__ import annotations

import pytest

from apps.accounts.models import ApiClient

pytestmark = pytest.mark.django_db


def test_it_needs_a_login(client):
    assert client.get("/developer/").status_code == 302


def test_creating_shows_the_secrets_once_and_they_work(alice_client, client):
    response = alice_client.post("/developer/", {"name": "my app"})
    assert response.status_code == 201
    secrets = response.context["secrets"]
    assert secrets["token"] in response.content.decode()
    assert client.get("/api/jobs/", HTTP_AUTHORIZATION=f"Token {secrets['token']}").status_code == 200
    page = alice_client.get("/developer/").content.decode()
    assert "my app" in page and secrets["token"] not in page
    assert b"Developer" in alice_client.get("/history/").content


def test_revoking_stops_the_token(alice_client, client):
    secrets = alice_client.post("/developer/", {"name": "my app"}).context["secrets"]
    api_client = ApiClient.objects.get()
    assert alice_client.post(f"/developer/{api_client.id}/revoke/").status_code == 302
    assert client.get("/api/jobs/", HTTP_AUTHORIZATION=f"Token {secrets['token']}").status_code == 401


def test_an_outsider_cannot_revoke_or_see_anothers_client(alice_client, bob):
    other, _ = ApiClient.issue(bob, "bob's app")
    assert alice_client.post(f"/developer/{other.id}/revoke/").status_code == 404
    assert "bob's app" not in alice_client.get("/developer/").content.decode()
    assert ApiClient.objects.filter(id=other.id).exists()
