"""Meitu /v1/aiquality: the spec's request, both response media types, its limits and errors."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from apps.uploads.models import Job
from tests.api.meitu_helpers import post, request_body
from tests.helpers import image_bytes


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
def test_a_base64_request_answers_the_spec_shape(client, secrets):
    response = post(client, secrets, request_body(image_bytes(96, 64, "JPEG")))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    payload = response.json()
    assert set(payload) == {"media_info_list", "parameter"}
    assert payload["parameter"] == {"rsp_media_type": "jpg", "version": "1.0.1"}
    (media,) = payload["media_info_list"]
    assert media["media_profiles"] == {"media_data_type": "jpg"}
    assert Image.open(io.BytesIO(base64.b64decode(media["media_data"]))).size == (96, 64)
    job = Job.objects.get()
    assert (job.source, job.operation, job.api_client.name) == ("meitu", "restore", "alice-app")


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
def test_a_url_request_answers_a_signed_link_that_downloads_the_result(client, secrets, settings):
    response = post(client, secrets, request_body(image_bytes(96, 64, "JPEG"), "url"))
    (media,) = response.json()["media_info_list"]
    assert media["media_profiles"] == {"media_data_type": "url"}
    link = media["media_data"]
    assert link.startswith("http://testserver/api/results/")
    download = client.get(link.removeprefix("http://testserver"))
    assert download.status_code == 200 and download["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(b"".join(download.streaming_content))).size == (96, 64)
    tampered = link.removeprefix("http://testserver")[:-3] + "xx/"
    assert client.get(tampered).status_code == 404
    settings.ENHANCER_SIGNED_URL_SECONDS = -1  # every link is now too old
    assert client.get(link.removeprefix("http://testserver")).status_code == 404


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
def test_a_photo_needing_no_repair_still_answers_a_link_in_url_mode(client, secrets, monkeypatch):
    from apps.imaging import operations

    untouched = operations.Operation(
        "restore", "Restore", lambda p, _params, _progress: operations.Result({}, {"needs_repair": False})
    )
    monkeypatch.setitem(operations.REGISTRY, "restore", untouched)
    original = image_bytes(96, 64, "JPEG")
    response = post(client, secrets, request_body(original, "url"))
    (media,) = response.json()["media_info_list"]
    assert media["media_profiles"] == {"media_data_type": "url"}
    download = client.get(media["media_data"].removeprefix("http://testserver"))
    assert download.status_code == 200 and download["Content-Type"] == "image/jpeg"
    assert b"".join(download.streaming_content) == original


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("key", "secret"), [("nobody", "x"), (None, "wrong")]
)
def test_wrong_keys_are_refused(client, secrets, key, secret):
    response = post(client, secrets, request_body(image_bytes()), key, secret)
    assert response.status_code == 400  # the document's one failure status
    assert response.json() == {"ErrorCode": 10001, "ErrorMsg": "INVALID_API_KEY",
                               "Data": "api_key or api_secret is wrong"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "code", "msg"),
    [
        ("{not json", 10000, "INVALID_PARAMETER"),
        ("[]", 10000, "INVALID_PARAMETER"),
        ({"media_info_list": []}, 10000, "INVALID_PARAMETER"),
        ({"media_info_list": ["x"]}, 10000, "INVALID_PARAMETER"),
        ({**request_body(image_bytes(fmt="JPEG")), "parameter": {"rsp_media_type": "gif"}}, 10000, "INVALID_PARAMETER"),
        ({"media_info_list": [{"media_data": "", "media_profiles": {}}]}, 10004, "INVALID_IMAGE"),
        ({"media_info_list": [{"media_data": "%%%", "media_profiles": {}}]}, 10004, "INVALID_IMAGE"),
        (request_body(b"not an image"), 10004, "INVALID_IMAGE"),
        (request_body(image_bytes(fmt="BMP")), 10004, "INVALID_IMAGE"),  # JPG and PNG only
        (request_body(image_bytes(47, 100, "PNG")), 10004, "INVALID_IMAGE"),  # under 48 px
        (request_body(image_bytes(4097, 60, "PNG")), 10004, "INVALID_IMAGE"),  # over 4096 px
        (request_body(image_bytes(fmt="JPEG"), data_type="url"), 10004, "INVALID_IMAGE"),
    ],
)
def test_bad_requests_answer_meitus_error_shape(client, secrets, body, code, msg, stand_ins):
    response = post(client, secrets, body)
    assert response.status_code == 400
    payload = response.json()
    assert set(payload) == {"ErrorCode", "ErrorMsg", "Data"}
    assert (payload["ErrorCode"], payload["ErrorMsg"]) == (code, msg)
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_an_image_over_2_mb_is_refused(client, secrets):
    import numpy as np

    noise = np.random.default_rng(1).integers(0, 255, (1200, 1200, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "PNG")
    assert len(buffer.getvalue()) > 2 * 1024 * 1024
    response = post(client, secrets, request_body(buffer.getvalue()))
    assert response.json()["Data"] == "the image is larger than 2 MB"


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
def test_a_failed_job_is_process_error_20001(client, secrets, monkeypatch):
    from apps.imaging import operations
    from apps.imaging.errors import EnhancerError

    def broken(picture, params, progress):
        raise EnhancerError(EnhancerError.INTERNAL, "the model broke")

    monkeypatch.setitem(operations.REGISTRY, "restore", operations.Operation("restore", "R", broken))
    response = post(client, secrets, request_body(image_bytes(fmt="JPEG")))
    assert response.json() == {"ErrorCode": 20001, "ErrorMsg": "PROCESS_ERROR", "Data": "the model broke"}


@pytest.mark.django_db
def test_the_rate_limit_is_answered_in_meitus_shape(client, issued):
    api_client, secrets = issued
    api_client.rate_limit_per_minute = 1
    api_client.save()
    post(client, secrets, "{")
    response = post(client, secrets, "{")
    assert response.status_code == 400  # the document's one failure status
    assert response.json()["ErrorMsg"] == "QPS_LIMIT_EXCEEDED"
