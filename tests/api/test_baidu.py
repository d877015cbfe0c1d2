"""Baidu image-process: token, the four methods, their limits and error codes."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from apps.api import access
from apps.api.models import BaiduAccessToken
from apps.uploads.models import Job
from tests.api.baidu_helpers import PROCESS, call, get_token, without_log_id
from tests.helpers import image_bytes


def error(code: int, msg: str) -> dict:
    return {"error_code": code, "error_msg": msg}


@pytest.mark.django_db
class TestToken:
    def test_the_token_is_stored_hashed_with_its_expiry(self, client, secrets):
        token = get_token(client, secrets)
        row = BaiduAccessToken.objects.get()
        assert token not in row.token_hash
        assert row.expires_at > timezone.now() + timedelta(days=29)

    def test_the_sdk_style_get_works_too(self, client, secrets):
        response = client.get(
            "/oauth/2.0/token",
            {"grant_type": "client_credentials", "client_id": secrets["baidu_api_key"],
             "client_secret": secrets["baidu_secret_key"]},
        )
        assert response.status_code == 200 and response.json()["access_token"]

    def test_a_wrong_secret_is_refused(self, client, secrets):
        response = client.post("/oauth/2.0/token", {
            "grant_type": "client_credentials", "client_id": secrets["baidu_api_key"],
            "client_secret": "wrong"})
        assert response.status_code == 401
        assert response.json() == {"error": "invalid_client",
                                   "error_description": "Client authentication failed"}

    def test_an_unknown_client_is_refused(self, client):
        response = client.post("/oauth/2.0/token", {
            "grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"})
        assert response.json() == {"error": "invalid_client", "error_description": "unknown client id"}

    def test_another_grant_type_is_refused(self, client, secrets):
        response = client.post("/oauth/2.0/token", {"grant_type": "password"})
        assert response.status_code == 400
        assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
@pytest.mark.parametrize(
    ("method", "operation", "size", "expected_size"),
    [
        ("image_quality_enhance", "upscale", (120, 90), (240, 180)),
        ("dehaze", "dehaze", (240, 200), (240, 200)),
        ("contrast_enhance", "contrast", (96, 64), (96, 64)),
        ("colourize", "colorize", (96, 64), (96, 64)),
    ],
)
def test_each_method_answers_log_id_and_image(client, secrets, method, operation, size, expected_size):
    token = get_token(client, secrets)
    response = call(client, token, method, image_bytes(*size, fmt="JPEG"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json;charset=UTF-8"
    payload = response.json()
    assert set(payload) == {"log_id", "image"} and isinstance(payload["log_id"], int)
    assert Image.open(io.BytesIO(base64.b64decode(payload["image"]))).size == expected_size
    job = Job.objects.get()
    assert (job.source, job.operation, job.status) == ("baidu", operation, "succeeded")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "size", "fmt"),
    [
        ("image_quality_enhance", (900, 800), "JPEG"),  # over 800 x 800 pixels
        ("dehaze", (199, 300), "JPEG"),  # shortest side under 200
        ("dehaze", (610, 200), "JPEG"),  # wider than 3:1
        ("contrast_enhance", (63, 100), "PNG"),  # shortest side under 64
        ("colourize", (801, 400), "PNG"),  # longest side over 800
    ],
)
def test_each_methods_own_size_limits_answer_216202(client, secrets, method, size, fmt, stand_ins):
    token = get_token(client, secrets)
    response = call(client, token, method, image_bytes(*size, fmt=fmt))
    assert response.status_code == 200  # Baidu reports errors in the body
    assert without_log_id(response.json()) == error(216202, "image size error")
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_the_base64_size_limit_is_4_mb(client, secrets):
    token = get_token(client, secrets)
    response = call(client, token, "contrast_enhance", "A" * (4 * 1024 * 1024 + 4))
    assert without_log_id(response.json()) == error(216202, "image size error")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (None, error(216200, "empty image")),
        ("", error(216200, "empty image")),
        ("!!not base64!!", error(216201, "image format error")),
        ("data:image/jpg;base64," + base64.b64encode(image_bytes(fmt="JPEG")).decode(),
         error(216201, "image format error")),
        (base64.b64encode(b"GIF89a not really").decode(), error(216201, "image format error")),
        (base64.b64encode(image_bytes(fmt="WEBP")).decode(), error(216201, "image format error")),
        (base64.b64encode(image_bytes(fmt="JPEG")[:300]).decode(), error(216201, "image format error")),
    ],
)
def test_bad_images_get_baidus_codes(client, secrets, image, expected, stand_ins):
    token = get_token(client, secrets)
    response = call(client, token, "contrast_enhance", image)
    assert without_log_id(response.json()) == expected
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_token_errors(client, secrets):
    image = base64.b64encode(image_bytes(fmt="JPEG")).decode()
    assert without_log_id(client.post(PROCESS + "dehaze", {"image": image}).json()) == error(
        100, "Invalid parameter")
    assert without_log_id(call(client, "24.nope", "dehaze", image).json()) == error(
        110, "Access token invalid or no longer valid")
    token = get_token(client, secrets)
    BaiduAccessToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert without_log_id(call(client, token, "dehaze", image).json()) == error(
        111, "Access token expired")


@pytest.mark.django_db
def test_an_unknown_method_is_unsupported(client, secrets):
    token = get_token(client, secrets)
    response = call(client, token, "selfie_anime", image_bytes())
    assert without_log_id(response.json()) == error(3, "Unsupported openapi method")


@pytest.mark.django_db
def test_colourize_without_a_model_has_no_permission(client, secrets, stand_ins, no_colorizer):
    token = get_token(client, secrets)
    response = call(client, token, "colourize", image_bytes(fmt="JPEG"))
    assert without_log_id(response.json()) == error(6, "No permission to access data")
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_the_daily_quota_is_error_17_and_the_rate_limit_18(client, issued):
    api_client, secrets = issued
    token = get_token(client, secrets)
    api_client.daily_quota = 1
    api_client.save()
    for _ in range(2):  # a refused request spends no unit
        assert without_log_id(call(client, token, "dehaze", "").json())["error_code"] != 17
    access.take_work(api_client, 1)  # the day's work
    assert without_log_id(call(client, token, "dehaze", "").json()) == error(
        17, "Open api daily request limit reached")
    api_client.daily_quota, api_client.rate_limit_per_minute = 0, 1
    api_client.save()
    call(client, token, "dehaze", "")
    assert without_log_id(call(client, token, "dehaze", "").json()) == error(
        18, "Open api qps request limit reached")


@pytest.mark.django_db
def test_a_job_slower_than_the_wait_is_an_internal_error(client, secrets, settings, stand_ins):
    settings.ENHANCER_COMPAT_WAIT_SECONDS = 1  # fits the estimate; no worker runs the job
    token = get_token(client, secrets)
    response = call(client, token, "contrast_enhance", image_bytes(fmt="JPEG"))
    assert without_log_id(response.json()) == error(282000, "internal error")
    assert Job.objects.get().source == "baidu"
