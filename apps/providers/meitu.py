"""Meitu MTLab aiquality (画质修复) as a provider of ``restore``."""

from __future__ import annotations

import base64

from django.conf import settings

from apps.imaging.errors import EnhancerError, gettext_noop
from apps.imaging.progress import Progress

from .base import ProviderResult
from .cloud import CloudProvider, access_code
from .http import produced


class MeituProvider(CloudProvider):
    name = "meitu"
    title = "Meitu aiquality"

    def __init__(self, url: str | None = None, api_key: str | None = None,
                 api_secret: str | None = None, timeout: float | None = None,
                 retries: int | None = None) -> None:
        super().__init__(url or settings.ENHANCER_MEITU_URL, timeout, retries)
        self.api_key = api_key if api_key is not None else settings.ENHANCER_MEITU_API_KEY
        self.api_secret = api_secret if api_secret is not None else settings.ENHANCER_MEITU_API_SECRET

    def unavailable_reason(self, operation: str) -> str | None:
        if operation != "restore":
            return f"Meitu aiquality does not offer {operation}."
        if not (self.api_key and self.api_secret):
            return "ENHANCER_MEITU_API_KEY and ENHANCER_MEITU_API_SECRET are not set."
        return None

    def run(self, operation: str, data: bytes, params: dict, progress: Progress) -> ProviderResult:
        self.require(operation)
        body = {
            "parameter": {"rsp_media_type": "base64"},
            "media_info_list": [{
                "media_data": base64.b64encode(data).decode(),
                "media_profiles": {"media_data_type": "jpg"},
            }],
            "extra": {},
        }
        progress(0.1)
        response = self.http.request(
            "POST", f"{self.url}/v1/aiquality",
            params={"api_key": self.api_key, "api_secret": self.api_secret}, json=body,
        )
        payload = self.http.json(response)
        if "ErrorCode" in payload or response.status_code != 200:
            raise _error(response.status_code, payload)
        media = payload.get("media_info_list") or []
        if not media or not isinstance(media[0], dict) or not media[0].get("media_data"):
            raise EnhancerError(EnhancerError.INTERNAL, gettext_noop("Meitu aiquality answered no picture."))
        progress(0.9)
        return ProviderResult([produced("Meitu aiquality", "improved", media[0]["media_data"])])


def _error(status: int, payload: dict) -> EnhancerError:
    # Meitu answers every failure with HTTP 400, so its error name says what went wrong.
    name = payload.get("ErrorMsg")
    code = access_code(
        throttled=status == 429 or name in ("QPS_LIMIT_EXCEEDED", "DAILY_QUOTA_EXCEEDED"),
        refused=status in (401, 403) or name == "INVALID_API_KEY",
    )
    if code is None:
        code = EnhancerError.INTERNAL
        if name == "INVALID_IMAGE":
            code = EnhancerError.NOT_AN_IMAGE
        elif name == "PROCESS_ERROR" and str(payload.get("Data", "")).startswith(("timeout", "temporary")):
            code = EnhancerError.TEMPORARY
        elif status == 400:
            code = EnhancerError.BAD_PARAMS
    return EnhancerError(
        code, gettext_noop("Meitu aiquality: %(remote)s (%(remote_code)s): %(detail)s"),
        {"remote": str(name), "remote_code": str(payload.get("ErrorCode")), "detail": str(payload.get("Data"))},
    )
