"""The address a request came from, behind as many reverse proxies as the installation names.

Each proxy appends the address it saw to ``X-Forwarded-For``, so with ``ENHANCER_TRUSTED_PROXIES``
proxies in front the client is that many entries from the right; anything further left was
written by the client and is not believed. With no proxies configured the header is ignored, so
a client cannot pick its own address; with proxies configured, the web server must be reachable
through them alone, or a direct caller could write the whole header.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    peer = request.META.get("REMOTE_ADDR", "")
    proxies = settings.ENHANCER_TRUSTED_PROXIES
    if not proxies:
        return peer
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < proxies:
        return peer  # not through the proxies: a direct call, counted by its own address
    candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer
