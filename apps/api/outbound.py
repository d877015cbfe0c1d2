"""Outgoing HTTP to addresses that users give us (webhook URLs, Meitu ``media_data_type: url``).

Such a URL must never reach this network's insides (server-side request forgery): the cloud
metadata service at 169.254.169.254, Redis on localhost:6379, the database, a 10.x admin page.
So a request here:

- accepts only ``http`` and ``https`` URLs without user info;
- resolves the host once, refuses the whole request if *any* address is loopback, private,
  link-local, multicast, reserved, unspecified or otherwise not globally reachable (IPv4 and
  IPv6, including IPv4 addresses embedded in IPv6: mapped, 6to4, Teredo, NAT64);
- connects to the very address it checked (the ``Host`` header and TLS name stay the
  hostname), so a DNS answer that changes between check and connect cannot redirect it;
- never follows redirects (a 3xx is returned as it is);
- stops after ``timeout`` seconds in all, however slowly the other side drips bytes, and after
  ``max_bytes`` of answer.

``ENHANCER_OUTBOUND_ALLOWED_NETWORKS`` lists networks that may be reached even though they are
not public (an operator's own receivers; the tests' loopback receiver). Empty by default.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class OutboundError(Exception):
    """The request was not made or did not complete. ``message`` is safe to show the user:
    it never holds the URL's query string or the addresses the host resolved to."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.message = message
        # Refused: the URL itself is unacceptable, so trying again cannot help.
        self.refused = refused


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # the hostname as written (IDNA-encoded), for Host and TLS
    port: int
    path: str  # path and query, as sent in the request line
    address: IPAddress  # the checked address to connect to


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """``ip`` and every IPv4 address it carries inside, each of which must be public too."""
    found: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            found.append(ip.ipv4_mapped)
        if ip.sixtofour:
            found.append(ip.sixtofour)
        if ip.teredo:
            found.extend(ip.teredo)
        if ip in _NAT64:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def is_public(ip: IPAddress) -> bool:
    for each in _embedded(ip):
        # is_global alone lets a few multicast and reserved ranges through.
        if not each.is_global or each.is_multicast or each.is_reserved or each.is_unspecified:
            return False
        if each.is_loopback or each.is_link_local or each.is_private:
            return False
    return True


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(network, strict=False)
        for network in getattr(settings, "ENHANCER_OUTBOUND_ALLOWED_NETWORKS", [])
    ]


def is_allowed(ip: IPAddress) -> bool:
    return is_public(ip) or any(ip in network for network in _allowed_networks())


def _not_reachable(host: str) -> OutboundError:
    """One text for a host that does not resolve and one that resolves to an internal address:
    two texts would let a caller map which internal names exist (and the address is never
    named, as telling which internal address a name has is itself a leak)."""
    return OutboundError(
        f"The host {host} is not a public internet address that can be reached (unknown hosts, "
        "loopback, private, link-local and reserved networks are refused).",
        refused=True,
    )


def check_url(url: str) -> Target:
    """Parse, resolve and check ``url``; raise OutboundError(refused=True) when it may not be
    fetched. Resolution failures are refusals too: a webhook must name a host that exists."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundError("The URL is not valid.", refused=True) from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise OutboundError("Only http and https URLs are accepted.", refused=True)
    if parts.username is not None or parts.password is not None:
        raise OutboundError("The URL must not contain a user name or password.", refused=True)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise OutboundError("The URL has no host.", refused=True)
    port = port or _DEFAULT_PORTS[scheme]
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise _not_reachable(host) from None
    addresses: list[IPAddress] = []
    for info in infos:
        # An IPv6 scope ("fe80::1%eth0") only ever belongs to a link-local address.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses or not all(is_allowed(address) for address in addresses):
        raise _not_reachable(host)
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    return Target(scheme, host, port, path, addresses[0])


def request(
    method: str,
    url: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
) -> Answer:
    """One guarded HTTP request (see the module docstring); raises OutboundError."""
    total = float(timeout if timeout is not None else settings.ENHANCER_OUTBOUND_TIMEOUT)
    limit = int(max_bytes if max_bytes is not None else settings.ENHANCER_OUTBOUND_MAX_BYTES)
    deadline = time.monotonic() + total
    target = check_url(url)
    sock: socket.socket | None = None
    watchdog: threading.Timer | None = None
    try:
        sock = socket.create_connection((str(target.address), target.port), timeout=total)
        # The socket timeout bounds each read; the watchdog bounds the whole exchange, so a
        # receiver sending one byte a second cannot hold a worker.
        current = [sock]  # TLS replaces the socket object: the watchdog aborts the live one
        watchdog = threading.Timer(max(deadline - time.monotonic(), 0), _abort, args=(current,))
        watchdog.daemon = True
        watchdog.start()
        if target.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=target.host)
            current[0] = sock
        connection = http.client.HTTPConnection(target.host, target.port, timeout=total)
        connection.sock = sock
        sent = {"Host": _host_header(target), "Connection": "close", **(headers or {})}
        connection.request(method, target.path, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read(limit + 1)
        if len(data) > limit:
            raise OutboundError(f"The answer is larger than {limit} bytes.")
        if time.monotonic() > deadline:
            raise OutboundError(f"No complete answer within {total:g} seconds.")
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    except OutboundError:
        raise
    except TimeoutError:
        raise OutboundError(f"No complete answer within {total:g} seconds.") from None
    except ssl.SSLError:
        raise OutboundError("The TLS handshake failed.") from None
    except (OSError, http.client.HTTPException) as error:
        if time.monotonic() >= deadline:
            raise OutboundError(f"No complete answer within {total:g} seconds.") from None
        raise OutboundError(f"The connection failed ({type(error).__name__}).") from None
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if sock is not None:
            sock.close()


def _abort(current: list[socket.socket]) -> None:
    try:
        current[0].shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    if target.port == _DEFAULT_PORTS[target.scheme]:
        return host
    return f"{host}:{target.port}"
