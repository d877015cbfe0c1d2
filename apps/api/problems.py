"""RFC 7807 problem JSON for every native-API error, EnhancerError included."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from apps.imaging.errors import EnhancerError

CONTENT_TYPE = "application/problem+json"

ENHANCER_STATUS = {
    EnhancerError.FILE_TOO_LARGE: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    EnhancerError.TOO_MANY_PIXELS: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    EnhancerError.UNAVAILABLE: status.HTTP_422_UNPROCESSABLE_ENTITY,
    EnhancerError.NO_FACE: status.HTTP_422_UNPROCESSABLE_ENTITY,
    EnhancerError.TOO_MANY_FACES: status.HTTP_422_UNPROCESSABLE_ENTITY,
    EnhancerError.OVER_TIME_LIMIT: status.HTTP_422_UNPROCESSABLE_ENTITY,
    EnhancerError.QUOTA_EXCEEDED: status.HTTP_429_TOO_MANY_REQUESTS,
    EnhancerError.TEMPORARY: status.HTTP_503_SERVICE_UNAVAILABLE,
    EnhancerError.QUEUE_UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
    EnhancerError.STORAGE_UNAVAILABLE: status.HTTP_503_SERVICE_UNAVAILABLE,
    EnhancerError.INTERNAL: status.HTTP_500_INTERNAL_SERVER_ERROR,
}

TITLES = {
    207: "Some files were refused",
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    411: "Length required",
    413: "Too large",
    415: "Unsupported media type",
    422: "Cannot process",
    429: "Too many requests",
    500: "Internal error",
    503: "Unavailable",
}


class FilesRefused(Exception):
    """Every file of a job request was refused; the answer lists each with its reason."""

    def __init__(self, refused: list) -> None:
        super().__init__("every file was refused")
        self.refused = refused


def refused_detail(accepted: int, refused: list) -> str:
    names = "; ".join(f"{item.name}: {item.error.message}" for item in refused)
    return f"{accepted} of {accepted + len(refused)} files accepted; refused: {names}"


def problem_body(status_code: int, code: str, detail: str, **extra) -> dict:
    return {
        "type": f"https://enhancer.invalid/problems/{code}",
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "code": code,
        **extra,
    }


def problem(status_code: int, code: str, detail: str, **extra) -> Response:
    body = problem_body(status_code, code, detail, **extra)
    return Response(body, status=status_code, content_type=CONTENT_TYPE)


def handle(exc, context):
    if isinstance(exc, FilesRefused):
        # The first file's error sets the status and code (as when one file is sent); every
        # refused file is listed.
        first = exc.refused[0].error
        detail = first.message if len(exc.refused) == 1 else refused_detail(0, exc.refused)
        return problem(
            ENHANCER_STATUS.get(first.code, 400), first.code, detail,
            errors={"files": [item.as_dict() for item in exc.refused]},
        )
    if isinstance(exc, EnhancerError):
        return problem(ENHANCER_STATUS.get(exc.code, 400), exc.code, exc.message)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # a real crash: Django's 500 page, and the error reaches the logs
    if isinstance(exc, serializers.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        result = problem(400, "invalid", "The request is not valid.", errors=errors)
    else:
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        if not isinstance(code, str):
            code = "error"
        detail = exc.detail if isinstance(getattr(exc, "detail", None), str) else str(exc)
        result = problem(response.status_code, code, str(detail))
    for header, value in response.headers.items():
        if header.lower() in ("www-authenticate", "retry-after", "allow"):
            result[header] = value
    return result
