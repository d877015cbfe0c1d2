"""Baidu AI image-process, copied on the wire: ``/oauth/2.0/token`` and four
``/rest/2.0/image-process/v1/<method>`` endpoints (also under ``image-classify``, the path the
document's own curl samples use).

Baidu answers errors with HTTP 200 and ``{"error_code", "error_msg"}`` (its SDK reads the body,
not the status), and success with ``{"log_id", "image"}``. Each method has its own limits.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from dataclasses import dataclass

from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from apps.accounts.models import ApiClient
from apps.common.images import validate_image
from apps.imaging.errors import EnhancerError
from apps.uploads import services
from apps.uploads.models import Job

from .. import access
from .common import submit, wait_all

MAX_BASE64_BYTES = 4 * 1024 * 1024

MESSAGES = {
    2: "Service temporarily unavailable",
    3: "Unsupported openapi method",
    6: "No permission to access data",
    14: "IAM Certification failed",
    17: "Open api daily request limit reached",
    18: "Open api qps request limit reached",
    100: "Invalid parameter",
    110: "Access token invalid or no longer valid",
    111: "Access token expired",
    216200: "empty image",
    216201: "image format error",
    216202: "image size error",
    282000: "internal error",
}

# EnhancerError codes → Baidu error codes (the rest is 282000, internal error).
ERROR_CODES = {
    EnhancerError.EMPTY_IMAGE: 216200,
    EnhancerError.NOT_AN_IMAGE: 216201,
    EnhancerError.UNSUPPORTED_FORMAT: 216201,
    EnhancerError.FILE_TOO_LARGE: 216202,
    EnhancerError.TOO_MANY_PIXELS: 216202,
    EnhancerError.IMAGE_TOO_SMALL: 216202,
    EnhancerError.IMAGE_TOO_LARGE: 216202,
    # Too big to finish within the job time limit: the size is what the caller can change.
    EnhancerError.OVER_TIME_LIMIT: 216202,
    # A call that could not finish within the wait answers as one that ran out of it.
    EnhancerError.WAIT_TIMEOUT: 282000,
    EnhancerError.UNKNOWN_OPERATION: 3,
    # The job was admitted but the day's quota has no unit left for it.
    EnhancerError.QUOTA_EXCEEDED: 17,
    # Baidu's colourize must be switched on for an account; until then it answers 6.
    EnhancerError.UNAVAILABLE: 6,
    # Our queue or storage is down and nothing was stored: "Service temporarily unavailable".
    EnhancerError.QUEUE_UNAVAILABLE: 2,
    EnhancerError.STORAGE_UNAVAILABLE: 2,
}


class BaiduError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(MESSAGES[code])
        self.code = code


def error_response(code: int) -> JsonResponse:
    return _json({"error_code": code, "error_msg": MESSAGES[code], "log_id": new_log_id()})


def _json(payload: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(payload, status=status)
    response["Content-Type"] = "application/json;charset=UTF-8"
    # Every answer in Baidu's document carries one; clients quote it to support.
    response["x-bce-request-id"] = str(uuid.uuid4())
    return response


def new_log_id() -> int:
    return secrets.randbits(63)


@dataclass(frozen=True)
class Method:
    operation: str
    params: dict
    output: str
    formats: tuple[str, ...] = ("JPEG", "PNG", "BMP")
    min_side: int = 1
    max_side: int | None = None
    max_pixels: int | None = None
    max_aspect: float | None = None


METHODS = {
    # "长宽乘积不超过800p x 800px"
    "image_quality_enhance": Method("upscale", {"factor": 2, "kind": "photo"}, "resolved",
                                    max_pixels=800 * 800),
    # "最短边至少200px，最长边最大4096px，长宽比3：1以内"
    "dehaze": Method("dehaze", {}, "dehazed", min_side=200, max_side=4096, max_aspect=3),
    # "最短边至少64px，最长边最大4096px，长宽比3：1以内"
    "contrast_enhance": Method("contrast", {}, "contrasted", min_side=64, max_side=4096,
                               max_aspect=3),
    # "最短边至少64px，最长边最大800px，长宽比3：1以内"
    "colourize": Method("colorize", {}, "colored", min_side=64, max_side=800, max_aspect=3),
}


def _check_limits(method: Method, image: services.ValidatedImage) -> None:
    info = image.info
    if info.format not in method.formats:
        raise BaiduError(216201)
    short, long = sorted((info.width, info.height))
    if short < method.min_side:
        raise BaiduError(216202)
    if method.max_side and long > method.max_side:
        raise BaiduError(216202)
    if method.max_pixels and info.width * info.height > method.max_pixels:
        raise BaiduError(216202)
    if method.max_aspect and long > short * method.max_aspect:
        raise BaiduError(216202)


def _authenticate(request: HttpRequest) -> ApiClient:
    token = request.GET.get("access_token") or request.POST.get("access_token")
    if not token:
        # The SDK signs requests with bce-auth when it was given no usable access_token.
        if request.headers.get("Authorization", "").startswith("bce-auth-"):
            raise BaiduError(14)
        raise BaiduError(100)
    client, expired = access.by_baidu_token(token)
    if client is None:
        raise BaiduError(110)
    if expired:
        raise BaiduError(111)
    return client


def _decode_image(request: HttpRequest) -> services.ValidatedImage:
    encoded = request.POST.get("image", "")
    if len(encoded) > MAX_BASE64_BYTES:
        raise BaiduError(216202)
    encoded = "".join(encoded.split())
    if not encoded:
        raise BaiduError(216200)
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise BaiduError(216201) from None
    if not data:
        raise BaiduError(216200)
    return validate_image(data, "image")


@csrf_exempt
def image_process(request: HttpRequest, method_name: str) -> JsonResponse:
    method = METHODS.get(method_name)
    if method is None or request.method != "POST":
        return error_response(3)
    try:
        try:
            request.POST  # noqa: B018 - parsed here so a broken body is Baidu's error, not Django's 400 page
        except MultiPartParserError:
            raise BaiduError(100) from None
        client = _authenticate(request)
        try:
            access.take_request(client)
        except access.LimitExceeded as exceeded:
            raise BaiduError(17 if exceeded.kind == "daily" else 18) from None
        image = _decode_image(request)
        _check_limits(method, image)
        (job,) = submit(client, Job.Source.BAIDU, [image], method.operation, method.params)
        (outcome,) = wait_all([job])
        if not outcome.succeeded:
            # A model that went missing after submission answers like one missing before it.
            unavailable = outcome.job.error_code == EnhancerError.UNAVAILABLE
            raise BaiduError(ERROR_CODES[EnhancerError.UNAVAILABLE] if unavailable else 282000)
        data = outcome.output(method.output)
        if data is None:
            raise BaiduError(282000)
    except BaiduError as error:
        return error_response(error.code)
    except EnhancerError as error:
        return error_response(ERROR_CODES.get(error.code, 282000))
    return _json({"log_id": new_log_id(), "image": base64.b64encode(data).decode()})


@csrf_exempt
def token(request: HttpRequest) -> JsonResponse:
    """OAuth client-credentials: API key + secret key → a 30-day access_token.

    Baidu's SDK sends a GET with the query string; the docs show a POST. Both are served.
    """
    if request.method not in ("GET", "POST"):
        return _json({"error": "invalid_request", "error_description": "method not allowed"}, 405)
    params = request.GET if request.method == "GET" else request.POST.copy()
    if request.method == "POST":
        for key, value in request.GET.items():
            params.setdefault(key, value)
    if params.get("grant_type") != "client_credentials":
        return _json(
            {"error": "unsupported_grant_type",
             "error_description": "The authorization grant type is not supported"}, 400
        )
    client_id = params.get("client_id")
    if not client_id:
        return _json({"error": "invalid_client", "error_description": "unknown client id"}, 400)
    client = access.by_key_and_secret("baidu", client_id, params.get("client_secret"))
    if client is None:
        known = ApiClient.objects.filter(baidu_api_key=client_id, enabled=True).exists()
        description = "Client authentication failed" if known else "unknown client id"
        return _json({"error": "invalid_client", "error_description": description}, 401)
    access_token, expires_in = access.issue_baidu_token(client)
    return _json(
        {
            "refresh_token": "",
            "expires_in": expires_in,
            # The SDK only sends access_token when "brain_all_scope" is among the scopes.
            "scope": "public brain_all_scope brain_image_process",
            "session_key": "",
            "access_token": access_token,
            "session_secret": "",
        }
    )
