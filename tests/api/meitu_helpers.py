"""Building Meitu aiquality requests the way its document shows them."""

from __future__ import annotations

import base64
import json

URL = "/v1/aiquality"


def post(client, secrets, body, key=None, secret=None):
    query = f"?api_key={key or secrets['meitu_api_key']}&api_secret={secret or secrets['meitu_api_secret']}"
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL + query, raw, content_type="application/json")


def request_body(data: bytes, rsp_media_type: str | None = "base64", data_type: str = "jpg") -> dict:
    body = {
        "media_info_list": [{
            "media_data": base64.b64encode(data).decode(),
            "media_extra": {},
            "media_profiles": {"media_data_type": data_type},
        }],
        "extra": {},
    }
    if rsp_media_type:
        body["parameter"] = {"rsp_media_type": rsp_media_type}
    return body
