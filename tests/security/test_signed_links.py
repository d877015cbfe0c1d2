"""Meitu's signed result links die with the client they were handed to."""

from __future__ import annotations

import pytest

from apps.accounts.models import ApiClient
from tests.api.meitu_helpers import post, request_body
from tests.helpers import image_bytes

pytestmark = pytest.mark.usefixtures("inline_jobs", "stand_ins")


def signed_link(client, secrets) -> str:
    response = post(client, secrets, request_body(image_bytes(96, 64, "JPEG"), "url"))
    (media,) = response.json()["media_info_list"]
    link = media["media_data"].removeprefix("http://testserver")
    assert client.get(link).status_code == 200
    return link


def test_a_disabled_clients_links_stop_working(client, issued):
    api_client, secrets = issued
    link = signed_link(client, secrets)
    ApiClient.objects.filter(id=api_client.id).update(enabled=False)
    assert client.get(link).status_code == 404


def test_a_revoked_clients_links_stop_working(client, issued, alice):
    api_client, secrets = issued
    link = signed_link(client, secrets)
    client.force_login(alice)
    client.post(f"/developer/{api_client.id}/revoke/")
    assert not ApiClient.objects.filter(id=api_client.id).exists()
    assert client.get(link).status_code == 404


def test_a_deactivated_owners_links_stop_working(client, issued, alice):
    _api_client, secrets = issued
    link = signed_link(client, secrets)
    type(alice).objects.filter(id=alice.id).update(is_active=False)
    assert client.get(link).status_code == 404
