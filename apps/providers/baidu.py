"""Baidu AI image-process as a provider: dehaze, contrast, colorize, upscale (x2 photo only)."""

from __future__ import annotations

import base64
import threading
import time

from django.conf import settings

from apps.imaging.errors import EnhancerError, gettext_noop
from apps.imaging.progress import Progress

from .base import ProviderResult
from .cloud import CloudProvider, access_code
from .http import produced

METHODS = {
    "upscale": ("image_quality_enhance", "resolved"),
    "dehaze": ("dehaze", "dehazed"),
    "contrast": ("contrast_enhance", "contrasted"),
    "colorize": ("colourize", "colored"),
}

# Baidu error_code → our error. 110/111 (token) are handled by fetching a new token once.
TEMPORARY_CODES = {1, 2, 18, 216630, 282000}
ERRORS = {
    216200: EnhancerError.EMPTY_IMAGE,
    216201: EnhancerError.UNSUPPORTED_FORMAT,
    216202: EnhancerError.IMAGE_TOO_LARGE,
    3: EnhancerError.UNAVAILABLE,
    4: EnhancerError.UNAVAILABLE,
    6: EnhancerError.UNAVAILABLE,
    14: EnhancerError.UNAVAILABLE,
    17: EnhancerError.UNAVAILABLE,
    19: EnhancerError.UNAVAILABLE,
    100: EnhancerError.UNAVAILABLE,
}


class BaiduProvider(CloudProvider):
    name = "baidu"
    title = "Baidu image-process"

    def __init__(self, url: str | None = None, api_key: str | None = None,
                 secret_key: str | None = None, timeout: float | None = None,
                 retries: int | None = None) -> None:
        super().__init__(url or settings.ENHANCER_BAIDU_URL, timeout, retries)
        self.api_key = api_key if api_key is not None else settings.ENHANCER_BAIDU_API_KEY
        self.secret_key = secret_key if secret_key is not None else settings.ENHANCER_BAIDU_SECRET_KEY
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def unavailable_reason(self, operation: str) -> str | None:
        if operation not in METHODS:
            return f"Baidu image-process does not offer {operation}."
        if not (self.api_key and self.secret_key):
            return "ENHANCER_BAIDU_API_KEY and ENHANCER_BAIDU_SECRET_KEY are not set."
        return None

    def check_params(self, operation: str, params: dict) -> None:
        """image_quality_enhance enlarges photos by 2, nothing else.

        Jobs always come with cleaned parameters, so with the engine's default factor (4) they
        are refused here, at submission. Only a direct caller may leave them out, meaning the
        one thing Baidu offers."""
        factor, kind = params.get("factor", 2), params.get("kind", "photo")
        if operation == "upscale" and (factor, kind) != (2, "photo"):
            raise EnhancerError(EnhancerError.BAD_PARAMS, gettext_noop("Baidu only upscales photos by 2."))

    def access_token(self, renew: bool = False) -> str:
        with self._lock:
            if self._token and not renew and self._token[1] > time.monotonic():
                return self._token[0]
            response = self.http.request(
                "POST", f"{self.url}/oauth/2.0/token",
                params={"grant_type": "client_credentials", "client_id": self.api_key,
                        "client_secret": self.secret_key},
            )
            payload = self.http.json(response)
            if "access_token" not in payload:
                raise EnhancerError(
                    EnhancerError.UNAVAILABLE,
                    gettext_noop("Baidu refused the API key: %(reason)s"),
                    {"reason": str(payload.get("error_description") or payload.get("error"))},
                )
            lifetime = float(payload.get("expires_in") or 0)
            self._token = (payload["access_token"], time.monotonic() + max(lifetime - 60, 0))
            return self._token[0]

    def run(self, operation: str, data: bytes, params: dict, progress: Progress) -> ProviderResult:
        self.require(operation)
        # Checked at submission already; a direct caller gets the same refusal before any call.
        self.check_params(operation, params)
        method, kind = METHODS[operation]
        form = {"image": base64.b64encode(data).decode()}
        progress(0.1)
        payload = self._call(method, form, renew=False)
        if payload.get("error_code") in (110, 111):
            payload = self._call(method, form, renew=True)
        if "error_code" in payload:
            raise _error(payload)
        progress(0.9)
        return ProviderResult([produced("Baidu image-process", kind, payload.get("image") or "")])

    def _call(self, method: str, form: dict, renew: bool) -> dict:
        token = self.access_token(renew=renew)
        response = self.http.request(
            "POST", f"{self.url}/rest/2.0/image-process/v1/{method}",
            params={"access_token": token}, data=form,
        )
        return self.http.json(response)


def _error(payload: dict) -> EnhancerError:
    code = payload.get("error_code")
    return EnhancerError(
        access_code(throttled=code in TEMPORARY_CODES, refused=False) or ERRORS.get(code, EnhancerError.INTERNAL),
        gettext_noop("Baidu image-process: %(remote)s (%(remote_code)s)"),
        {"remote": str(payload.get("error_msg")), "remote_code": str(code)},
    )
