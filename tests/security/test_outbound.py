"""The guarded outbound fetcher: internal addresses are refused, the checked address is the one
connected to, redirects are not followed, and size and total time are bounded."""

from __future__ import annotations

import ipaddress

import pytest

from apps.api import outbound
from apps.api.outbound import OutboundError

from .receivers import Receiver

# IPv4-mapped IPv6 (::ffff:a.b.c.d) is refused even for a public IPv4: nobody needs it for a
# webhook, and Python versions disagree on how such addresses classify.

INTERNAL = [
    "127.0.0.1", "127.9.9.9", "10.0.0.5", "172.16.3.4", "192.168.1.1", "169.254.169.254",
    "100.64.0.1", "0.0.0.0", "224.0.0.1",  # noqa: S104 - an address under test "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1",
    "::ffff:169.254.169.254", "::ffff:10.0.0.5", "2002:7f00:1::1", "2002:a9fe:a9fe::1",
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "::127.0.0.1", "2001:db8::1",
]


@pytest.mark.parametrize("address", INTERNAL)
def test_internal_addresses_are_not_public(address):
    assert not outbound.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are(address):
    assert outbound.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:6379/", "http://localhost:5432/", "http://169.254.169.254/latest/meta-data",
    "http://10.0.0.5/", "http://[::1]:8000/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
    "http://2130706433/", "http://0x7f.1/", "http://127.1/",
])
def test_internal_urls_are_refused_before_connecting(url, monkeypatch):
    connected = []
    monkeypatch.setattr(outbound.socket, "create_connection", lambda *a, **k: connected.append(a))
    with pytest.raises(OutboundError) as refused:
        outbound.request("POST", url, body=b"{}")
    assert refused.value.refused
    assert "not a public internet address" in refused.value.message
    assert connected == []


@pytest.mark.parametrize(("url", "text"), [
    ("ftp://example.com/x", "Only http and https"),
    ("file:///etc/passwd", "Only http and https"),
    ("gopher://127.0.0.1:6379/_INFO", "Only http and https"),
    ("http://user:pw@example.com/", "user name or password"),
    ("http:///nohost", "no host"),
    ("http://no-such-host.invalid/", "not a public internet address"),
    ("http://[::1/", "not valid"),
])
def test_bad_urls_are_refused_with_a_reason(url, text):
    with pytest.raises(OutboundError) as refused:
        outbound.check_url(url)
    assert refused.value.refused and text in refused.value.message


def test_loopback_is_refused_by_default_and_reached_when_allowed(settings):
    receiver = Receiver(status=201, body=b"ok").start()
    try:
        with pytest.raises(OutboundError):
            outbound.request("POST", f"{receiver.url}/hook?token=abc", body=b"{}")
        assert receiver.calls == []
        settings.ENHANCER_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
        answer = outbound.request("POST", f"{receiver.url}/hook?token=abc", body=b"{}",
                                  headers={"X-Test": "1"})
        assert (answer.status, answer.body) == (201, b"ok")
        (call,) = receiver.calls
        assert (call.path, call.body, call.headers["X-Test"]) == ("/hook?token=abc", b"{}", "1")
        assert call.headers["Host"] == receiver.url.removeprefix("http://")
    finally:
        receiver.stop()


def test_redirects_are_not_followed(settings):
    settings.ENHANCER_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    target = Receiver().start()
    redirecting = Receiver(status=302, headers={"Location": f"{target.url}/inside"}).start()
    try:
        answer = outbound.request("POST", redirecting.url, body=b"{}")
        assert answer.status == 302
        assert len(redirecting.calls) == 1 and target.calls == []
    finally:
        target.stop()
        redirecting.stop()


def test_a_large_answer_is_cut_off(settings):
    settings.ENHANCER_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    receiver = Receiver(status=200, body=b"x" * 5000).start()
    try:
        with pytest.raises(OutboundError) as failed:
            outbound.request("POST", receiver.url, body=b"{}", max_bytes=1000)
        assert "larger than 1000 bytes" in failed.value.message
        assert not failed.value.refused
    finally:
        receiver.stop()


@pytest.mark.timeout(60)
def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_total_limit(settings):
    # One byte every 0.2 s never trips a per-read timeout; only a total deadline ends it.
    settings.ENHANCER_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    receiver = Receiver(drip=0.2).start()
    try:
        with pytest.raises(OutboundError) as failed:
            outbound.request("POST", receiver.url, body=b"{}", timeout=1.5)
        assert "No complete answer within 1.5 seconds" in failed.value.message
    finally:
        receiver.stop()


def test_the_checked_address_is_the_one_connected_to(settings, monkeypatch):
    """A name that resolves to a public address at the check and to loopback a moment later
    (DNS rebinding) is still connected to at the address that was checked."""
    settings.ENHANCER_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    receiver = Receiver().start()
    port = int(receiver.url.rsplit(":", 1)[1])
    answers = iter(["127.0.0.1", "127.0.0.2"])
    real = outbound.socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host == "rebind.test":
            address = next(answers)
            return [(2, 1, 6, "", (address, port))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", rebinding)
    connected = []
    real_connect = outbound.socket.create_connection
    monkeypatch.setattr(outbound.socket, "create_connection",
                        lambda address, *a, **k: connected.append(address) or real_connect(address, *a, **k))
    try:
        answer = outbound.request("POST", f"http://rebind.test:{port}/", body=b"{}")
        assert answer.status == 204
        assert connected == [("127.0.0.1", port)]  # resolved once, connected where checked
        assert receiver.calls[0].headers["Host"] == f"rebind.test:{port}"
    finally:
        receiver.stop()


def test_an_unknown_host_and_an_internal_one_get_the_same_words():
    """Two texts would let a caller probe which internal host names exist."""
    texts = []
    for host in ("no-such-host.invalid", "localhost"):
        with pytest.raises(OutboundError) as refused:
            outbound.check_url(f"http://{host}/hook")
        texts.append(refused.value.message.replace(host, "HOST"))
    assert texts[0] == texts[1]
