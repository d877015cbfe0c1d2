"""What the cloud providers share: one HTTP call with timeouts and retries, and result decoding."""

from __future__ import annotations

import base64
import binascii
import logging
import time
from urllib.parse import urlsplit

import requests

from apps.common.images import image_limits
from apps.imaging import codec
from apps.imaging.errors import EnhancerError, embedded, gettext_noop

from .base import ProducedImage

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
        # Credentials travel in the query string (Baidu client_secret and access_token, VK
        # oauth_token, Meitu api_secret), and requests puts the whole URL into its exceptions'
        # text: only ``where`` (no query) and ``describe(error)`` reach logs and job errors.
        where = redact_url(url)
        last_error = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except requests.RequestException as error:
                last_error = describe(error)
                log.warning("%s: %s %s failed (attempt %d): %s", self.name, method, where,
                            attempt + 1, last_error)
                continue
            if response.status_code < 500:
                return response
            last_error = f"HTTP {response.status_code}"
            log.warning("%s: %s %s answered %s (attempt %d)", self.name, method, where,
                        response.status_code, attempt + 1)
        raise EnhancerError(
            EnhancerError.TEMPORARY, gettext_noop("%(provider)s is not answering (%(reason)s)."),
            {"provider": self.name, "reason": last_error}, temporary=True,
        )

    def json(self, response: requests.Response) -> dict:
        try:
            payload = response.json()
        except ValueError:
            raise EnhancerError(
                EnhancerError.TEMPORARY,
                gettext_noop("%(provider)s answered something that is not JSON (HTTP %(status)s)."),
                {"provider": self.name, "status": response.status_code},
                temporary=True,
            ) from None
        if not isinstance(payload, dict):
            raise EnhancerError(
                EnhancerError.INTERNAL, gettext_noop("%(provider)s answered an unexpected JSON."),
                {"provider": self.name},
            )
        return payload


def redact_url(url: str) -> str:
    """``scheme://host[:port]/path``: no query, fragment or user info, which may hold secrets."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an invalid URL)"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def describe(error: requests.RequestException) -> str:
    """A fixed phrase per failure kind; never ``str(error)``, which quotes the URL."""
    for kind, text in _DESCRIPTIONS:
        if isinstance(error, kind):
            return text
    return f"{type(error).__name__}"


_DESCRIPTIONS: tuple[tuple[type[requests.RequestException], str], ...] = (
    (requests.ConnectTimeout, "connection timed out"),
    (requests.ReadTimeout, "no answer in time"),
    (requests.exceptions.SSLError, "TLS handshake failed"),
    (requests.exceptions.ProxyError, "the proxy refused the connection"),
    (requests.ConnectionError, "connection failed"),
    (requests.exceptions.InvalidURL, "invalid URL"),
    (requests.TooManyRedirects, "too many redirects"),
)


def produced(provider: str, kind: str, encoded: str | bytes) -> ProducedImage:
    """A result picture from base64 (or bytes), checked, as JPEG or PNG."""
    if isinstance(encoded, str):
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise EnhancerError(
                EnhancerError.INTERNAL, gettext_noop("%(provider)s sent a picture that is not base64."),
                {"provider": provider},
            ) from None
    else:
        data = encoded
    try:
        info = codec.inspect(data, image_limits())
    except EnhancerError as error:
        raise EnhancerError(
            EnhancerError.INTERNAL, gettext_noop("%(provider)s sent an unreadable picture: %(reason)s"),
            {"provider": provider, **embedded("reason", error)},
        ) from None
    if info.format not in codec.EXTENSIONS:
        picture = codec.decode(data, image_limits())
        data, fmt = codec.encode(picture, "PNG"), "PNG"
    else:
        fmt = info.format
    return ProducedImage(kind, data, fmt, info.width, info.height)
