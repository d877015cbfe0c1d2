"""Building VK-style requests the way the spec's curl examples do."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.helpers import image_bytes

SET, RECOGNIZE = "/api/v1/persons/set", "/api/v1/persons/recognize"


def vk_post(client, path: str, token: str, meta, files: dict[str, bytes] | None = None,
            provider: str = "mcs"):
    data: dict = {"meta": meta if isinstance(meta, str) else json.dumps(meta)}
    for name, content in (files or {}).items():
        data[name] = SimpleUploadedFile(f"{name}.jpg", content, content_type="image/jpeg")
    query = f"?oauth_token={token}&oauth_provider={provider}"
    return client.post(path + query, data)


def jpeg(width: int = 96, height: int = 64) -> bytes:
    return image_bytes(width, height, "JPEG")


def envelope(status: int, body) -> dict:
    return {"status": status, "body": body, "htmlencoded": False, "last_modified": 0}


def enroll(client, token, data, person_id=1):
    meta = {"space": "5", "images": [{"name": "file", "person_id": person_id}]}
    return vk_post(client, SET, token, meta, {"file": data})


def recognize(client, token, data, create_new, name="file"):
    meta = {"space": "5", "create_new": create_new, "images": [{"name": name}]}
    return vk_post(client, RECOGNIZE, token, meta, {"file": data})
