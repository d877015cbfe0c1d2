"""Building VK-style requests the way the spec's curl examples do."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.helpers import image_bytes


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
