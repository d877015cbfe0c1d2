"""Baidu image-process requests: an access token, then a method called with it."""

from __future__ import annotations

import base64

PROCESS = "/rest/2.0/image-process/v1/"


def get_token(client, secrets) -> str:
    response = client.post(
        "/oauth/2.0/token",
        {"grant_type": "client_credentials", "client_id": secrets["baidu_api_key"],
         "client_secret": secrets["baidu_secret_key"]},
    )
    assert response.status_code == 200
    payload = response.json()
    assert payload["expires_in"] == 30 * 24 * 3600
    assert "brain_all_scope" in payload["scope"].split()
    return payload["access_token"]


def call(client, token: str, method: str, image: bytes | str | None, **extra):
    data = dict(extra)
    if image is not None:
        data["image"] = image if isinstance(image, str) else base64.b64encode(image).decode()
    return client.post(f"{PROCESS}{method}?access_token={token}", data)


def without_log_id(payload: dict) -> dict:
    return {key: value for key, value in payload.items() if key != "log_id"}
