"""What the cloud providers share: one HTTP call with timeouts and retries, and result decoding."""

from __future__ import annotations

import base64
import binascii
import logging
import time

import requests

from apps.imaging import codec
from apps.imaging.errors import EnhancerError

from .base import ProducedImage
from .limits import image_limits

log = logging.getLogger(__name__)


class Http:
    """POSTs with a timeout, retrying connection errors, timeouts and 5xx a few times.

    When the retries are spent the error is ``EnhancerError(TEMPORARY)``, so the Celery task
    retries the whole job later with its own backoff.
    """

    def __init__(self, name: str, timeout: float, retries: int, backoff: float = 0.5) -> None:
        self.name = name
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.session = requests.Session()

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        last_error = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except requests.RequestException as error:
                last_error = f"{type(error).__name__}: {error}"
                log.warning("%s: %s %s failed (attempt %d): %s", self.name, method, url, attempt + 1, error)
                continue
            if response.status_code < 500:
                return response
            last_error = f"HTTP {response.status_code}"
            log.warning("%s: %s %s answered %s (attempt %d)", self.name, method, url,
                        response.status_code, attempt + 1)
        raise EnhancerError(
            EnhancerError.TEMPORARY, f"{self.name} is not answering ({last_error}).", temporary=True
        )

    def json(self, response: requests.Response) -> dict:
        try:
            payload = response.json()
        except ValueError:
            raise EnhancerError(
                EnhancerError.TEMPORARY,
                f"{self.name} answered something that is not JSON (HTTP {response.status_code}).",
                temporary=True,
            ) from None
        if not isinstance(payload, dict):
            raise EnhancerError(EnhancerError.INTERNAL, f"{self.name} answered an unexpected JSON.")
        return payload


def produced(provider: str, kind: str, encoded: str | bytes) -> ProducedImage:
    """A result picture from base64 (or bytes), checked, as JPEG or PNG."""
    if isinstance(encoded, str):
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise EnhancerError(EnhancerError.INTERNAL, f"{provider} sent a picture that is not base64.") from None
    else:
        data = encoded
    try:
        info = codec.inspect(data, image_limits())
    except EnhancerError as error:
        raise EnhancerError(EnhancerError.INTERNAL, f"{provider} sent an unreadable picture: {error.message}") from None
    if info.format not in codec.EXTENSIONS:
        picture = codec.decode(data, image_limits())
        data, fmt = codec.encode(picture, "PNG"), "PNG"
    else:
        fmt = info.format
    return ProducedImage(kind, data, fmt, info.width, info.height)
