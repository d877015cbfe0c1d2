"""One id per request, carried onto the jobs it creates and into every log line about them.

An incoming ``X-Request-ID`` (from a proxy or a client that correlates its own logs) is kept
when it is a plain token — at most 64 letters, digits and ``._:-`` — and replaced by a fresh
one otherwise, so a header cannot write newlines, quotes or control characters into a log line.
The id is returned in the response's ``X-Request-ID``. Jobs take it as their ``request_id``
(the field's default reads :func:`current`), and the worker sets it again while it runs the job
(``apps/monitoring/celery_hooks.py``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
MAX_LENGTH = 64
_VALID = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_LENGTH}}}")

_current: ContextVar[str] = ContextVar("enhancer_request_id", default="")


def current() -> str:
    """The request id of the request or job this code runs for; "" outside both."""
    return _current.get()


def clean(value: str | None) -> str | None:
    """``value`` when it is safe to log as is, else None."""
    if value and _VALID.fullmatch(value):
        return value
    return None


def new() -> str:
    return uuid.uuid4().hex


@contextmanager
def bound(request_id: str) -> Iterator[None]:
    """Within the block, log lines and new jobs carry ``request_id``."""
    token = _current.set(clean(request_id) or "")
    try:
        yield
    finally:
        _current.reset(token)


class RequestIdMiddleware:
    """First in the chain, so even a request refused by a later middleware has an id."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = clean(request.headers.get(HEADER)) or new()
        request.request_id = request_id
        with bound(request_id):
            response = self.get_response(request)
        response[HEADER] = request_id
        return response
