"""Sign-in is throttled per user name and address, on the site's login and the admin's."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def attempt(client, password: str, username: str = "alice", path: str = LOGIN, address="203.0.113.5"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_five_failures_lock_the_name_from_that_address(client, alice, settings):
    settings.ENHANCER_LOGIN_MAX_FAILURES = 5
    settings.ENHANCER_LOGIN_LOCKOUT_SECONDS = 900
    for _ in range(5):
        response = attempt(client, "wrong")
        assert response.status_code == 200 and "Too many failed" not in response.content.decode()
    # Locked: even the right password is refused, with a clear message.
    response = attempt(client, "alice-password-1")
    assert response.status_code == 200
    assert "Too many failed sign-in attempts for this account from your address. " \
           "Try again in 15 minutes." in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address, or another name, is not affected.
    assert attempt(client, "alice-password-1", address="198.51.100.7").status_code == 302


def test_a_success_clears_the_count(client, alice, settings):
    settings.ENHANCER_LOGIN_MAX_FAILURES = 3
    for _ in range(2):
        attempt(client, "wrong")
    assert attempt(client, "alice-password-1").status_code == 302
    client.logout()
    for _ in range(2):
        attempt(client, "wrong")
    assert attempt(client, "alice-password-1").status_code == 302


def test_the_lock_ends(client, alice, settings, monkeypatch):
    import time

    from apps.accounts import throttle

    settings.ENHANCER_LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        attempt(client, "wrong")
    assert "Too many failed" in attempt(client, "alice-password-1").content.decode()
    later = time.time() + settings.ENHANCER_LOGIN_LOCKOUT_SECONDS + 1
    monkeypatch.setattr(throttle.time, "time", lambda: later)
    assert attempt(client, "alice-password-1").status_code == 302


def test_the_admin_login_is_throttled_too(client, admin_user, settings):
    settings.ENHANCER_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        attempt(client, "wrong", "admin", "/admin/login/")
    response = attempt(client, "password", "admin", "/admin/login/")
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def behind_proxy(client, forwarded_for: str, password: str):
    return client.post(
        LOGIN, {"username": "alice", "password": password},
        REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_behind_a_proxy_each_client_is_counted_by_its_own_address(client, alice, settings):
    settings.ENHANCER_LOGIN_MAX_FAILURES = 2
    settings.ENHANCER_TRUSTED_PROXIES = 1
    # Whatever the client writes into the header itself (left of the proxy's entry) is ignored.
    for spoofed in ("1.1.1.1", "2.2.2.2"):
        behind_proxy(client, f"{spoofed}, 203.0.113.5", "wrong")
    assert "Too many failed" in behind_proxy(client, "9.9.9.9, 203.0.113.5", "wrong").content.decode()
    # Another client behind the same proxy is not locked out with the first.
    assert behind_proxy(client, "198.51.100.7", "alice-password-1").status_code == 302


def test_without_trusted_proxies_the_header_is_not_believed(client, alice, settings):
    settings.ENHANCER_LOGIN_MAX_FAILURES = 2
    settings.ENHANCER_TRUSTED_PROXIES = 0
    behind_proxy(client, "1.1.1.1", "wrong")
    behind_proxy(client, "2.2.2.2", "wrong")
    assert "Too many failed" in behind_proxy(client, "3.3.3.3", "alice-password-1").content.decode()


@pytest.mark.parametrize("header", ["", "not-an-address", "203.0.113.5, ", ","])
def test_a_missing_or_broken_header_counts_the_peer(header, settings, rf):
    from apps.common.addresses import client_address

    settings.ENHANCER_TRUSTED_PROXIES = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=header)
    expected = "203.0.113.5" if header.startswith("203") else "10.0.0.2"
    assert client_address(request) == expected
