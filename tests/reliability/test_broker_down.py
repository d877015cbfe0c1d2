"""The broker is unreachable (CELERY_BROKER_URL at a closed port): every upload surface answers
503 in its own format with a clear message, and nothing stays stored — no row, no file, no
idempotency key."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.api.models import IdempotentRequest
from apps.uploads.models import Job
from tests.api.baidu_helpers import call, get_token
from tests.api.meitu_helpers import post as meitu_post
from tests.api.meitu_helpers import request_body
from tests.api.vk_helpers import jpeg, vk_post
from tests.helpers import files_under, image_bytes

# Publishing happens after a real commit, so these need committed transactions.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("broker_down")]

QUEUE_DOWN = "The job queue is not reachable right now, so nothing was stored."


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
    response = vk_post(client, "/api/v1/photo/improve", secrets["token"], meta, {"p": jpeg()})
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == 503 and body["body"].startswith(QUEUE_DOWN)


def test_baidu_answers_its_service_temporarily_unavailable_code(client, secrets):
    body = call(client, get_token(client, secrets), "contrast_enhance", jpeg()).json()
    assert (body["error_code"], body["error_msg"]) == (2, "Service temporarily unavailable")


def test_meitu_answers_a_temporary_process_error(client, secrets):
    answer = meitu_post(client, secrets, request_body(jpeg())).json()
    assert (answer["ErrorCode"], answer["ErrorMsg"]) == (20001, "PROCESS_ERROR")
    assert answer["Data"] == f"temporary failure, try again: {QUEUE_DOWN} Please try again in a minute."
