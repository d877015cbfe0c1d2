"""Baidu image-process against its document (../shared/specs/baidu-image-process.md), item by
item: both request paths the document shows, its headers, field types and the error table. The
limits and the common error codes are in test_baidu.py; the official SDK in test_baidu_sdk.py.
Where the document contradicts itself, the test says which side we follow and why.
"""

from __future__ import annotations

import base64
import io
import uuid
from urllib.parse import urlencode

import pytest
from PIL import Image

from apps.api.compat.baidu import MESSAGES
from apps.imaging import operations
from apps.imaging.errors import EnhancerError
from apps.uploads.models import Job
from tests.api.baidu_helpers import get_token
from tests.helpers import image_bytes

# The document's error table, copied verbatim (错误码 / 错误信息).
DOCUMENTED_ERRORS = {
    1: "Unknown error",
    2: "Service temporarily unavailable",
    3: "Unsupported openapi method",
    4: "Open api request limit reached",
    6: "No permission to access data",
    13: "Get service token failed",
    14: "IAM Certification failed",
    15: "app not exsits or create failed",
    17: "Open api daily request limit reached",
    18: "Open api qps request limit reached",
    19: "Open api total request limit reached",
    100: "Invalid parameter",
    110: "Access token invalid or no longer valid",
    111: "Access token expired",
    216200: "empty image",
    216201: "image format error",
    216202: "image size error",
    216630: "recognize error",
    282000: "internal error",
}
METHODS = ("image_quality_enhance", "dehaze", "contrast_enhance", "colourize")


def form_post(client, path: str, token: str, image: bytes | str):
    """As the document's curl: ``--data 'image=<base64, url-encoded>'``, form content type."""
    encoded = image if isinstance(image, str) else base64.b64encode(image).decode()
    return client.post(f"{path}?access_token={token}", urlencode({"image": encoded}),
                       content_type="application/x-www-form-urlencoded")


def assert_baidu_headers(response) -> None:
    assert response["Content-Type"] == "application/json;charset=UTF-8"
    uuid.UUID(response["x-bce-request-id"])  # the example's value is a UUID


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("family", ["image-process", "image-classify"])
def test_each_method_answers_on_the_request_url_and_on_the_curl_samples_path(
    client, secrets, method, family
):
    # "请求URL" says /rest/2.0/image-process/v1/<method>; the curl samples of the same pages
    # say /rest/2.0/image-classify/v1/<method>. A client may have copied either: both answer.
    token = get_token(client, secrets)
    response = form_post(client, f"/rest/2.0/{family}/v1/{method}", token,
                         image_bytes(300, 240, "JPEG"))
    assert response.status_code == 200
    assert_baidu_headers(response)
    payload = response.json()
    assert set(payload) == {"log_id", "image"}
    # The table types log_id as uint64 and three examples show a number; colourize's example
    # alone shows a string. We answer the number everywhere.
    assert type(payload["log_id"]) is int and 0 <= payload["log_id"] < 2**64
    # "图片的base64编码是不包含图片头的": no data: header on the way out either.
    assert not payload["image"].startswith("data:")
    Image.open(io.BytesIO(base64.b64decode(payload["image"], validate=True))).verify()
    assert Job.objects.get().source == "baidu"


@pytest.mark.django_db
def test_each_request_has_its_own_request_id_errors_included(client, secrets):
    token = get_token(client, secrets)
    first = form_post(client, "/rest/2.0/image-process/v1/dehaze", token, "")
    second = form_post(client, "/rest/2.0/image-classify/v1/dehaze", token, "")
    for response in (first, second):
        assert_baidu_headers(response)
    assert first["x-bce-request-id"] != second["x-bce-request-id"]


@pytest.mark.django_db
def test_an_error_has_the_documented_envelope(client, secrets):
    token = get_token(client, secrets)
    response = form_post(client, "/rest/2.0/image-classify/v1/dehaze", token, "")
    # Baidu answers errors with HTTP 200; its SDK reads the body.
    assert response.status_code == 200
    assert_baidu_headers(response)
    payload = response.json()
    # The example shows error_code and error_msg; log_id is in too, because the response table
    # marks log_id as always present (是否必选: 是).
    assert set(payload) == {"error_code", "error_msg", "log_id"}
    assert (payload["error_code"], payload["error_msg"]) == (216200, "empty image")
    assert type(payload["log_id"]) is int


def test_every_error_we_answer_is_in_the_documents_table_with_its_exact_text():
    for code, text in MESSAGES.items():
        assert DOCUMENTED_ERRORS.get(code) == text, code


@pytest.mark.django_db
def test_an_invalid_access_token_is_the_documents_example(client):
    response = form_post(client, "/rest/2.0/image-process/v1/dehaze", "not-a-token", "")
    payload = response.json()
    assert (payload["error_code"], payload["error_msg"]) == (
        110, "Access token invalid or no longer valid")


@pytest.mark.django_db
def test_base64_with_a_data_header_is_a_format_error(client, secrets, stand_ins):
    token = get_token(client, secrets)
    with_header = "data:image/jpg;base64," + base64.b64encode(image_bytes(fmt="JPEG")).decode()
    response = form_post(client, "/rest/2.0/image-process/v1/contrast_enhance", token, with_header)
    assert (response.json()["error_code"], response.json()["error_msg"]) == (
        216201, "image format error")
    assert not Job.objects.exists()


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
def test_colourize_whose_model_vanished_after_submission_still_answers_no_permission(
    client, secrets, monkeypatch
):
    # Colourize "is usable only after staff enable it" (the document); without a colorizer we
    # answer that account state, 6 — also when the model went missing while the job waited.
    def vanished(picture, params, progress):
        raise EnhancerError(EnhancerError.UNAVAILABLE, "colorize unavailable: no colorizer")

    monkeypatch.setitem(operations.REGISTRY, "colorize",
                        operations.Operation("colorize", "Colorize", vanished, outputs=("colored",)))
    token = get_token(client, secrets)
    response = form_post(client, "/rest/2.0/image-process/v1/colourize", token,
                         image_bytes(96, 64, "JPEG"))
    payload = response.json()
    assert (payload["error_code"], payload["error_msg"]) == (6, "No permission to access data")
    assert Job.objects.get().status == Job.Status.FAILED
