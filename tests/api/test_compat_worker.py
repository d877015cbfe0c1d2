"""End to end with a real Celery worker process: the synchronous endpoints wait for it."""

from __future__ import annotations

import base64

import pytest

from apps.accounts.models import ApiClient
from apps.uploads.models import Job
from tests.helpers import image_bytes

pytestmark = pytest.mark.slow


def test_baidu_contrast_waits_for_the_worker(client, celery_worker_process, alice, settings):
    settings.ENHANCER_COMPAT_WAIT_SECONDS = 60
    _, secrets = ApiClient.issue(alice, "e2e", daily_quota=0, rate_limit_per_minute=0)
    token = client.post("/oauth/2.0/token", {
        "grant_type": "client_credentials", "client_id": secrets["baidu_api_key"],
        "client_secret": secrets["baidu_secret_key"]}).json()["access_token"]
    response = client.post(
        f"/rest/2.0/image-process/v1/contrast_enhance?access_token={token}",
        {"image": base64.b64encode(image_bytes(160, 120, "JPEG")).decode()},
    )
    payload = response.json()
    assert set(payload) == {"log_id", "image"}, payload
    job = Job.objects.get()
    assert (job.status, job.source, job.api_client.name) == ("succeeded", "baidu", "e2e")


def test_meitu_base64_waits_for_the_worker_and_fails_cleanly_without_restore(
    client, celery_worker_process, alice, settings
):
    from apps.imaging import operations

    settings.ENHANCER_COMPAT_WAIT_SECONDS = 60
    _, secrets = ApiClient.issue(alice, "e2e", daily_quota=0, rate_limit_per_minute=0)
    body = {"media_info_list": [{"media_data": base64.b64encode(image_bytes(96, 64, "JPEG")).decode(),
                                 "media_profiles": {"media_data_type": "jpg"}}]}
    response = client.post(
        f"/v1/aiquality?api_key={secrets['meitu_api_key']}&api_secret={secrets['meitu_api_secret']}",
        body, content_type="application/json",
    )
    if "restore" not in operations.REGISTRY:
        assert response.json()["ErrorCode"] == 20001
        assert not Job.objects.exists()
    else:
        assert response.status_code == 200, response.json()
        assert Job.objects.get().status == "succeeded"
