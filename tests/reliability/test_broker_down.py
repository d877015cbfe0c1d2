"""The broker is unreachable (CELERY_BROKER_URL at a closed port): every upload surface answers
503 in its own format with a clear message, and nothing stays stored — no row, no file, no
idempotency key."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.accounts.models import ApiClient
from apps.api.models import IdempotentRequest
from apps.uploads.models import Job
from tests.helpers import image_bytes
from tests.reliability.conftest import files_under

# Publishing happens after a real commit, so these need committed transactions.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("broker_down")]

QUEUE_DOWN = "The job queue is not reachable right now, so nothing was stored."


@pytest.fixture
def secrets(alice) -> dict[str, str]:
    return ApiClient.issue(alice, "alice-app", daily_quota=0, rate_limit_per_minute=0)[1]


@pytest.fixture(autouse=True)
def nothing_stored(settings):
    yield
    assert Job.objects.count() == 0
    assert IdempotentRequest.objects.count() == 0
    assert files_under(settings.MEDIA_ROOT) == set()


def photo(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(96, 64), "image/png")


def test_the_upload_page_answers_503_with_the_reason(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("uploads:new"), {"photos": [photo("a.png"), photo("b.png")], "operation": "contrast"}
    )
    assert response.status_code == 503
    assert QUEUE_DOWN in response.content.decode()


def test_the_native_api_answers_503_problem_json_and_forgets_the_idempotency_key(client, secrets):
    response = client.post(
        "/api/jobs/", {"files": [photo()], "operation": "contrast"},
        HTTP_AUTHORIZATION=f"Token {secrets['token']}", HTTP_IDEMPOTENCY_KEY="retry-me",
    )
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (503, "queue_unavailable")
    assert body["detail"].startswith(QUEUE_DOWN)


def test_vk_answers_a_503_envelope_and_withdraws_every_mode(client, secrets):
    meta = {"mode": ["resolution"], "rfactor": 2, "ftype": "photo", "images": [{"name": "p"}]}
    response = client.post(
        f"/api/v1/photo/improve?oauth_token={secrets['token']}&oauth_provider=mcs",
        {"meta": json.dumps(meta), "p": SimpleUploadedFile("p.jpg", image_bytes(96, 64, "JPEG"))},
    )
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == 503 and body["body"].startswith(QUEUE_DOWN)


def test_baidu_answers_its_service_temporarily_unavailable_code(client, secrets):
    token = client.post(
        "/oauth/2.0/token",
        {"grant_type": "client_credentials", "client_id": secrets["baidu_api_key"],
         "client_secret": secrets["baidu_secret_key"]},
    ).json()["access_token"]
    response = client.post(
        f"/rest/2.0/image-process/v1/contrast_enhance?access_token={token}",
        {"image": base64.b64encode(image_bytes(96, 64, "JPEG")).decode()},
    )
    body = response.json()
    assert (body["error_code"], body["error_msg"]) == (2, "Service temporarily unavailable")


def test_meitu_answers_a_temporary_process_error(client, secrets):
    body = {"media_info_list": [{"media_data": base64.b64encode(image_bytes(96, 64, "JPEG")).decode(),
                                 "media_profiles": {"media_data_type": "jpg"}}]}
    response = client.post(
        f"/v1/aiquality?api_key={secrets['meitu_api_key']}&api_secret={secrets['meitu_api_secret']}",
        json.dumps(body), content_type="application/json",
    )
    answer = response.json()
    assert (answer["ErrorCode"], answer["ErrorMsg"]) == (20001, "PROCESS_ERROR")
    assert answer["Data"] == f"temporary failure, try again: {QUEUE_DOWN} Please try again in a minute."
