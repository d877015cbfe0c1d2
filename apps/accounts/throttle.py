"""Sign-in throttling: after ``ENHANCER_LOGIN_MAX_FAILURES`` failed attempts for one user name
from one address, that pair is refused for ``ENHANCER_LOGIN_LOCKOUT_SECONDS`` — even with the
right password, so guessing cannot go on in the background.

The address is the client's, behind ``ENHANCER_TRUSTED_PROXIES`` reverse proxies
(common/addresses.py). Counts live in Django's cache (``CACHE_URL``; share it between web
processes in production). Failures are counted from Django's ``user_login_failed`` signal, so
the site's login form and the admin's are both covered; a successful sign-in clears the count.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver
from django.http import HttpRequest

from apps.common.addresses import client_address


def _keys(request: HttpRequest, username: str) -> tuple[str, str]:
    address = client_address(request)
    # Hashed: user names may hold characters a cache key cannot.
    digest = hashlib.sha256(f"{username.strip().lower()}\n{address}".encode()).hexdigest()
    return f"login:failures:{digest}", f"login:locked:{digest}"


def seconds_locked(request: HttpRequest, username: str) -> int:
    """How long this user name is still refused from this address (0: not at all)."""
    until = cache.get(_keys(request, username)[1])
    return max(math.ceil(until - time.time()), 0) if until else 0


def message(seconds: int) -> str:
    minutes = max(math.ceil(seconds / 60), 1)
    return (
        f"Too many failed sign-in attempts for this account from your address. "
        f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
    )


def record_failure(request: HttpRequest, username: str) -> None:
    failures, locked = _keys(request, username)
    window = settings.ENHANCER_LOGIN_LOCKOUT_SECONDS
    cache.add(failures, 0, window)
    try:
        count = cache.incr(failures)
    except ValueError:  # expired between add and incr
        cache.set(failures, 1, window)
        count = 1
    if count >= settings.ENHANCER_LOGIN_MAX_FAILURES:
        cache.set(locked, time.time() + window, window)
        cache.delete(failures)


def reset(request: HttpRequest, username: str) -> None:
    cache.delete_many(list(_keys(request, username)))


@receiver(user_login_failed, dispatch_uid="accounts.throttle.failed")
def _on_failure(sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
    if request is not None:  # a shell or a test client's login() has no address to count
        record_failure(request, str(credentials.get("username", "")))


@receiver(user_logged_in, dispatch_uid="accounts.throttle.succeeded")
def _on_success(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is not None:
        reset(request, user.get_username())
