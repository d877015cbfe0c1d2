"""The one error type of the whole product: a stable code, a message id and its parameters.

Every surface (web page, native API, VK, Baidu, Meitu) maps ``code`` to its own wire format, so
codes are part of the public contract: add new ones, never rename. The message id is an English
template (``"factor must be 2 or 4, got %(factor)s."``) marked with :func:`gettext_noop`; APIs
answer it filled in English (``message``), pages translate the template and fill it with
``params`` in the visitor's language.
"""

from __future__ import annotations

from collections.abc import Mapping


def gettext_noop(message_id: str) -> str:
    """Marks an English template for translation without importing Django: makemessages finds
    templates by this name; the pages translate them when they show the error."""
    return message_id


def embedded(name: str, error: EnhancerError) -> dict[str, object]:
    """Parameters that put another error's sentence into a message ("Retrying: %(reason)s"): its
    English text for the APIs, and as ``<name>_messages`` its template and parameters, which a
    page translates in place of the English."""
    return {name: error.message, f"{name}_messages": [[error.message_id, error.params]]}


class EnhancerError(Exception):
    # Codes caused by the input itself; retrying will not help.
    EMPTY_IMAGE = "empty_image"
    NOT_AN_IMAGE = "not_an_image"
    UNSUPPORTED_FORMAT = "unsupported_format"
    FILE_TOO_LARGE = "file_too_large"
    TOO_MANY_PIXELS = "too_many_pixels"
    IMAGE_TOO_SMALL = "image_too_small"
    IMAGE_TOO_LARGE = "image_too_large"
    BAD_PARAMS = "bad_params"
    UNKNOWN_OPERATION = "unknown_operation"
    NO_FACE = "no_face"
    TOO_MANY_FACES = "too_many_faces"
    # The job's estimate exceeds the job time limit; the message says what would fit.
    OVER_TIME_LIMIT = "over_time_limit"
    # The user's or client's allowance of jobs is spent for today.
    QUOTA_EXCEEDED = "quota_exceeded"
    # The API client the work would be counted against is disabled or revoked (a re-run).
    CLIENT_DISABLED = "client_disabled"
    # The operation cannot run on this installation (missing model, provider not configured).
    UNAVAILABLE = "unavailable"
    # Worth retrying: a remote provider timed out, a resource was busy.
    TEMPORARY = "temporary"
    # A synchronous call could not see its job finish within its wait (queue ahead included).
    WAIT_TIMEOUT = "wait_timeout"
    # The worker's time limit stopped the job (a bigger photo or a lighter operation may fit).
    TIMEOUT = "timeout"
    INTERNAL = "internal"
    # The service itself cannot take or keep work right now (apps/uploads/liveness.py).
    QUEUE_UNAVAILABLE = "queue_unavailable"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    # The job's worker vanished (killed, out of memory) on every one of its allowed attempts.
    WORKER_LOST = "worker_lost"
    # An operator cancelled the job while it waited in its queue (the admin's operations page).
    CANCELLED = "cancelled"

    def __init__(
        self,
        code: str,
        message_id: str,
        params: Mapping[str, object] | None = None,
        *,
        temporary: bool = False,
    ) -> None:
        self.code = code
        self.message_id = message_id
        # JSON-safe values only (str, int, float; for pages also [template, params] lists under
        # names ending in _messages and a dict of operation parameters under _params, see
        # apps/uploads/error_text.py): the job row keeps them to render the message in any
        # language.
        self.params = dict(params or {})
        self.message = message_id % self.params if self.params else message_id
        super().__init__(self.message)
        self.temporary = temporary or code in (self.TEMPORARY, self.WAIT_TIMEOUT)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __reduce__(self):  # keep code, template and parameters when pickled across processes
        return (_rebuild, (self.code, self.message_id, self.params, self.temporary))


def _rebuild(code: str, message_id: str, params: dict, temporary: bool) -> EnhancerError:
    return EnhancerError(code, message_id, params, temporary=temporary)
