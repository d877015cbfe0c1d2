"""Meitu MTLab ``/v1/aiquality`` (画质修复), copied on the wire.

Errors are ``{"ErrorCode", "ErrorMsg", "Data"}``. The spec defines 20001 PROCESS_ERROR itself and
points at a general table it does not include; the other codes below are ours, in its style.
Image limits from the spec: JPG or PNG, each side 48–4096 px, at most 2 MB. A
``media_data_type: url`` item is fetched through :mod:`apps.api.outbound` (public addresses only).
"""

from __future__ import annotations

import base64
import binascii
import json

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from apps.common.images import validate_image
from apps.imaging import codec
from apps.imaging.errors import EnhancerError
from apps.uploads import services
from apps.uploads.models import Job

from .. import access, outbound
from ..downloads import signed_url
from .common import Outcome, submit, wait_all

MAX_BYTES = 2 * 1024 * 1024
MIN_SIDE, MAX_SIDE = 48, 4096
VERSION = "1.0.1"


class MeituError(Exception):
    def __init__(self, code: int, msg: str, data: str | None = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.data = code, msg, data


def bad_request(data: str) -> MeituError:
    return MeituError(10000, "INVALID_PARAMETER", data)


def image_error(data: str) -> MeituError:
    return MeituError(10004, "INVALID_IMAGE", data)


def error_response(error: MeituError) -> JsonResponse:
    # The document gives failures one HTTP status, 400, whatever went wrong (even a timeout or
    # a refused key); ErrorCode/ErrorMsg tell them apart and Data says what happened, so a
    # client written for Meitu never meets a status it was not told about.
    return JsonResponse(
        {"ErrorCode": error.code, "ErrorMsg": error.msg, "Data": error.data},
        status=400,
        json_dumps_params={"ensure_ascii": False},
        content_type="application/json; charset=utf-8",
    )


def _parse(request: HttpRequest) -> tuple[list[dict], str]:
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: [[[[…]]]]
        raise bad_request("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad_request("the body must be a JSON object")
    media = body.get("media_info_list")
    if not isinstance(media, list) or not media:
        raise bad_request("media_info_list is required")
    if not all(isinstance(item, dict) for item in media):
        raise bad_request("media_info_list items must be objects")
    # The spec states no number; each item is a job, and the quota counts every one.
    if len(media) > settings.ENHANCER_MEITU_MAX_MEDIA:
        raise bad_request(f"media_info_list holds at most {settings.ENHANCER_MEITU_MAX_MEDIA} items")
    parameter = body.get("parameter", {})
    if not isinstance(parameter, dict):
        raise bad_request("parameter must be an object")
    rsp_type = parameter.get("rsp_media_type", "base64")
    if rsp_type not in ("base64", "url", "jpg"):
        raise bad_request("rsp_media_type must be base64 or url")
    return media, "url" if rsp_type == "url" else "base64"


def _image(item: dict, index: int) -> services.ValidatedImage:
    profiles = item.get("media_profiles") or {}
    if not isinstance(profiles, dict):
        raise bad_request("media_profiles must be an object")
    data_type = profiles.get("media_data_type", "jpg")
    if data_type not in ("jpg", "png", "jpeg", "url"):
        raise bad_request("media_data_type must be jpg or url")
    encoded = item.get("media_data")
    if not isinstance(encoded, str) or not encoded.strip():
        raise image_error("media_data is empty")
    if data_type == "url":
        data = _fetch(encoded.strip())
    else:
        try:
            data = base64.b64decode("".join(encoded.split()), validate=True)
        except (binascii.Error, ValueError):
            raise image_error("media_data is not valid base64") from None
    if len(data) > MAX_BYTES:
        raise image_error("the image is larger than 2 MB")
    try:
        image = validate_image(data, f"media_{index}")
    except EnhancerError as error:
        raise image_error(error.message) from None
    info = image.info
    if info.format not in ("JPEG", "PNG"):
        raise image_error("only JPG and PNG images are accepted")
    if min(info.width, info.height) < MIN_SIDE or max(info.width, info.height) > MAX_SIDE:
        raise image_error(f"each side must be {MIN_SIDE} to {MAX_SIDE} px")
    return image


def _fetch(url: str) -> bytes:
    """The picture behind a ``media_data_type: url`` item, through the guarded fetcher: only
    public addresses, no redirects, at most 2 MB (the document's limit) within
    ENHANCER_OUTBOUND_TIMEOUT seconds."""
    try:
        answer = outbound.request("GET", url, max_bytes=MAX_BYTES)
    except outbound.OutboundError as error:
        raise image_error(f"media_data url could not be fetched: {error.message}") from None
    if answer.status != 200:
        hint = " (redirects are not followed)" if 300 <= answer.status < 400 else ""
        raise image_error(f"media_data url answered HTTP {answer.status}{hint}")
    return answer.body


def _media(request: HttpRequest, outcome: Outcome, rsp_type: str, original: bytes) -> dict:
    output = next((o for o in outcome.job.outputs.all() if o.kind == "improved"), None)
    if rsp_type == "url":
        # No "improved" means the photo needed no repair: the answer is the photo itself.
        data = signed_url(request, outcome.job, output)
    else:
        raw = outcome.output("improved") if output else None
        # "jpg" is the only media_data_type the document answers: a PNG becomes a JPEG (alpha
        # flattened onto white) so the label is true.
        data = base64.b64encode(codec.as_jpeg(raw if raw is not None else original)).decode()
    return {"media_data": data, "media_profiles": {"media_data_type": "url" if rsp_type == "url" else "jpg"}}


@csrf_exempt
def aiquality(request: HttpRequest) -> JsonResponse:
    try:
        if request.method != "POST":
            raise MeituError(10000, "INVALID_PARAMETER", "use POST")
        client = access.by_key_and_secret(
            "meitu", request.GET.get("api_key"), request.GET.get("api_secret")
        )
        if client is None:
            raise MeituError(10001, "INVALID_API_KEY", "api_key or api_secret is wrong")
        try:
            access.take_request(client)
        except access.LimitExceeded as exceeded:
            if exceeded.kind == "daily":
                raise MeituError(10003, "DAILY_QUOTA_EXCEEDED", "daily quota reached") from None
            raise MeituError(10002, "QPS_LIMIT_EXCEEDED", "too many requests") from None
        media, rsp_type = _parse(request)
        images = [_image(item, index) for index, item in enumerate(media)]
        try:
            jobs = submit(client, Job.Source.MEITU, images, "restore", {})
        except EnhancerError as error:
            if error.code == EnhancerError.QUOTA_EXCEEDED:  # each item counts, once admitted
                raise MeituError(10003, "DAILY_QUOTA_EXCEEDED", "daily quota reached") from None
            message = error.message
            # A job that could not finish within the wait is answered at once, as a wait that
            # ran out is; another temporary refusal means queue or storage down, nothing stored.
            if error.temporary and error.code != EnhancerError.WAIT_TIMEOUT:
                message = f"temporary failure, try again: {message}"
            raise MeituError(20001, "PROCESS_ERROR", message) from None
        outcomes = wait_all(jobs)
        for outcome in outcomes:
            if outcome.timed_out:
                raise MeituError(20001, "PROCESS_ERROR",
                                 "timeout: the job is still running; try again later")
            if not outcome.succeeded:
                message = outcome.job.error_message
                if outcome.temporary:
                    message = f"temporary failure, try again: {message}"
                raise MeituError(20001, "PROCESS_ERROR", message)
    except MeituError as error:
        return error_response(error)
    result_type = "url" if rsp_type == "url" else "jpg"
    return JsonResponse(
        {
            "media_info_list": [
                _media(request, outcome, rsp_type, image.data)
                for outcome, image in zip(outcomes, images, strict=True)
            ],
            "parameter": {"rsp_media_type": result_type, "version": VERSION},
        },
        content_type="application/json; charset=utf-8",
    )
