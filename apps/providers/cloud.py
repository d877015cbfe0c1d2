"""What every cloud provider (VK, Baidu, Meitu) shares: its HTTP client, the availability check
that opens each call, and the errors every cloud has in some form (over its rate or quota: try
later; credentials refused: unavailable here until an admin fixes them)."""

from __future__ import annotations

from django.conf import settings

from apps.imaging.errors import EnhancerError, gettext_noop

from .http import Http


class CloudProvider:
    name: str
    title: str  # how errors and logs name the cloud: "VK Cloud Vision"

    def __init__(self, url: str, timeout: float | None, retries: int | None) -> None:
        self.url = url.rstrip("/")
        self.http = Http(
            self.title,
            timeout or settings.ENHANCER_PROVIDER_TIMEOUT,
            settings.ENHANCER_PROVIDER_RETRIES if retries is None else retries,
        )

    def unavailable_reason(self, operation: str) -> str | None:
        raise NotImplementedError

    def check_params(self, operation: str, params: dict) -> None:
        """No limits of its own beyond the engine's parameters (Baidu has some)."""

    def require(self, operation: str) -> None:
        """Raise EnhancerError(UNAVAILABLE) unless this cloud can perform ``operation``."""
        reason = self.unavailable_reason(operation)
        if reason:
            # The reason names settings (for the operator); pages say only what cannot run.
            raise EnhancerError(
                EnhancerError.UNAVAILABLE, gettext_noop("%(reason)s"),
                {"reason": reason, "operation": operation},
            )


def access_code(*, throttled: bool, refused: bool) -> str | None:
    """The cloud's rate or quota was hit (retry later), or it refused our credentials."""
    if throttled:
        return EnhancerError.TEMPORARY
    if refused:
        return EnhancerError.UNAVAILABLE
    return None
