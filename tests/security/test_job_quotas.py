"""Jobs per request are bounded, and quotas count jobs, not requests: Meitu's media_info_list,
VK improve+resolution, the native API's files, and web users' daily allowance."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.accounts.models import ApiClient
from apps.api.models import JobWebhook
from apps.uploads.models import Job
from tests.api.meitu_helpers import post as meitu_post
from tests.api.meitu_helpers import request_body
from tests.api.vk_helpers import vk_post
from tests.helpers import image_bytes

pytestmark = pytest.mark.django_db


def meitu(client, secrets, count: int):
    body = request_body(image_bytes(96, 64, "JPEG"))
    body["media_info_list"] *= count
    return meitu_post(client, secrets, body)


def quota(issued, daily: int) -> dict:
    api_client, secrets = issued
    ApiClient.objects.filter(id=api_client.id).update(daily_quota=daily)
    return secrets


def test_meitu_takes_at_most_the_configured_number_of_media(client, secrets, settings):
    response = meitu(client, secrets, settings.ENHANCER_MEITU_MAX_MEDIA + 1)
    assert response.json() == {"ErrorCode": 10000, "ErrorMsg": "INVALID_PARAMETER",
                               "Data": f"media_info_list holds at most {settings.ENHANCER_MEITU_MAX_MEDIA} items"}
    assert not Job.objects.exists()


def test_meitus_quota_counts_each_media_item(client, issued):
    secrets = quota(issued, 2)
    response = meitu(client, secrets, 3)
    assert (response.json()["ErrorCode"], response.json()["ErrorMsg"]) == (10003, "DAILY_QUOTA_EXCEEDED")
    assert not Job.objects.exists()


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
def test_meitu_within_its_quota_runs_every_item(client, issued):
    secrets = quota(issued, 3)
    response = meitu(client, secrets, 3)
    assert len(response.json()["media_info_list"]) == 3
    response = meitu(client, secrets, 1)  # the three jobs spent the day's three units
    assert response.json()["ErrorMsg"] == "DAILY_QUOTA_EXCEEDED"


def vk_improve(client, secrets, images: int, modes=("improve", "resolution")):
    names = [f"file{i}" for i in range(images)]
    meta = {"mode": list(modes), "rfactor": 2, "ftype": "photo",
            "images": [{"name": name} for name in names]}
    files = {name: image_bytes(96, 64, "JPEG") for name in names}
    return vk_post(client, "/api/v1/photo/improve", secrets["token"], meta, files)


def test_vk_bounds_the_jobs_of_one_request(client, secrets, settings):
    settings.ENHANCER_VK_MAX_JOBS = 10
    response = vk_improve(client, secrets, 6)  # 6 images × 2 modes
    assert (response.status_code, response.json()["status"]) == (400, 400)
    assert response.json()["body"] == "too many jobs: 6 images × 2 modes; at most 10 per request"
    assert not Job.objects.exists()


def test_vks_quota_counts_each_job(client, issued):
    secrets = quota(issued, 3)
    response = vk_improve(client, secrets, 2)  # 4 jobs
    assert response.json() == {"status": 429, "body": "daily quota exceeded", "htmlencoded": False,
                               "last_modified": 0}
    assert not Job.objects.exists()


def test_the_native_apis_quota_counts_each_file(client, issued):
    secrets = quota(issued, 2)
    files = [SimpleUploadedFile(f"{i}.png", image_bytes(), "image/png") for i in range(3)]
    response = client.post("/api/jobs/", {"files": files, "operation": "contrast"},
                           HTTP_AUTHORIZATION=f"Token {secrets['token']}")
    assert response.status_code == 429
    assert response.json()["code"] == "quota_exceeded"
    assert not Job.objects.exists() and not JobWebhook.objects.exists()


def upload(client, count: int):
    photos = [SimpleUploadedFile(f"{i}.png", image_bytes(), "image/png") for i in range(count)]
    return client.post(reverse("uploads:new"), {"photos": photos, "operation": "contrast"})


def test_web_users_have_a_daily_allowance(alice_client, settings):
    settings.ENHANCER_WEB_DAILY_JOBS = 3
    assert upload(alice_client, 2).status_code == 302
    response = upload(alice_client, 2)
    assert response.status_code == 400
    text = response.content.decode()
    assert "Your daily allowance of 3 jobs is spent (1 left today, 2 asked)" in text
    assert Job.objects.count() == 2
    for job in Job.objects.all():  # deleting jobs does not give the allowance back
        alice_client.post(reverse("history:delete", args=[job.uuid]))
    assert not Job.objects.exists()
    assert upload(alice_client, 1).status_code == 302
    assert upload(alice_client, 1).status_code == 400


def test_the_api_with_a_session_counts_against_the_same_allowance(alice_client, settings):
    settings.ENHANCER_WEB_DAILY_JOBS = 1
    assert upload(alice_client, 1).status_code == 302
    upload_file = SimpleUploadedFile("a.png", image_bytes(), "image/png")
    response = alice_client.post("/api/jobs/", {"files": [upload_file], "operation": "contrast"})
    assert (response.status_code, response.json()["code"]) == (429, "quota_exceeded")
    assert Job.objects.count() == 1


def test_each_user_has_their_own_allowance(alice_client, bob, client, settings):
    settings.ENHANCER_WEB_DAILY_JOBS = 1
    assert upload(alice_client, 1).status_code == 302
    client.force_login(bob)
    assert upload(client, 1).status_code == 302


# --- every path that makes work counts it, and only admitted work ---------------------------


def used(api_client) -> int:
    """Units of today's quota the client has spent."""
    from apps.api.models import UsageCounter

    day = UsageCounter.objects.filter(client=api_client, bucket__startswith="d:")
    return day.values_list("count", flat=True).first() or 0


def api_job(client, secrets) -> str:
    upload_file = SimpleUploadedFile("a.png", image_bytes(), "image/png")
    response = client.post("/api/jobs/", {"files": [upload_file], "operation": "contrast"},
                           HTTP_AUTHORIZATION=f"Token {secrets['token']}")
    assert response.status_code == 202, response.content
    return response.json()["jobs"][0]["id"]


def test_a_rerun_counts_against_the_clients_quota(client, alice_client, issued):
    api_client, secrets = issued
    ApiClient.objects.filter(id=api_client.id).update(daily_quota=1)
    job = api_job(client, secrets)
    assert used(api_client) == 1
    response = alice_client.post(reverse("history:rerun", args=[job]), follow=True)
    assert "quota of 1 units of the API client" in response.content.decode()
    assert Job.objects.count() == 1 and used(api_client) == 1
    ApiClient.objects.filter(id=api_client.id).update(daily_quota=2)
    response = alice_client.post(reverse("history:rerun", args=[job]))
    assert Job.objects.count() == 2 and used(api_client) == 2
    rerun = Job.objects.exclude(uuid=job).get()
    assert rerun.api_client_id == api_client.id and response["Location"].endswith(f"/{rerun.uuid}/")


def test_a_disabled_clients_job_is_not_rerun(client, alice_client, issued):
    api_client, secrets = issued
    job = api_job(client, secrets)
    ApiClient.objects.filter(id=api_client.id).update(enabled=False)
    response = alice_client.post(reverse("history:rerun", args=[job]), follow=True)
    assert "is disabled or revoked" in response.content.decode()
    response = alice_client.post(reverse("history:rerun", args=[job]), follow=True,
                                 HTTP_ACCEPT_LANGUAGE="ru")
    assert "отключён или отозван" in response.content.decode()
    assert Job.objects.count() == 1


def test_a_rerun_of_a_web_job_counts_against_the_allowance(alice_client, settings):
    settings.ENHANCER_WEB_DAILY_JOBS = 1
    assert upload(alice_client, 1).status_code == 302
    job = Job.objects.get()
    response = alice_client.post(reverse("history:rerun", args=[job.uuid]), follow=True)
    assert "Your daily allowance of 1 jobs is spent" in response.content.decode()
    assert Job.objects.count() == 1


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
def test_refused_meitu_images_spend_no_quota(client, issued):
    api_client, secrets = issued
    ApiClient.objects.filter(id=api_client.id).update(daily_quota=3)
    broken = request_body(b"not an image at all")
    for _ in range(3):
        assert meitu_post(client, secrets, broken).json()["ErrorMsg"] == "INVALID_IMAGE"
    assert used(api_client) == 0
    assert len(meitu(client, secrets, 3).json()["media_info_list"]) == 3
    assert used(api_client) == 3


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
def test_refused_vk_images_spend_no_quota(client, issued):
    api_client, secrets = issued
    ApiClient.objects.filter(id=api_client.id).update(daily_quota=2)
    meta = {"mode": ["improve"], "images": [{"name": "file0"}]}
    for _ in range(3):
        response = vk_post(client, "/api/v1/photo/improve", secrets["token"], meta,
                           {"file0": b"not an image"})
        assert response.json()["status"] == 400
    assert used(api_client) == 0
    response = vk_improve(client, secrets, 1)  # improve + resolution: two jobs
    assert [obj["status"] for mode in ("improve", "resolution")
            for obj in response.json()["body"][mode]] == [0, 0]
    assert used(api_client) == 2


def test_a_mixed_batch_spends_a_unit_per_created_job_only(client, issued):
    """The API sends a batch's good files and refuses its bad ones (207): the quota counts the
    jobs made, so a client with two units left can still send two good photos beside a bad one."""
    api_client, secrets = issued
    ApiClient.objects.filter(id=api_client.id).update(daily_quota=2)
    files = [SimpleUploadedFile("a.png", image_bytes(), "image/png"),
             SimpleUploadedFile("bad.png", b"not an image", "image/png"),
             SimpleUploadedFile("b.png", image_bytes(), "image/png")]
    response = client.post("/api/jobs/", {"files": files, "operation": "contrast"},
                           HTTP_AUTHORIZATION=f"Token {secrets['token']}")
    assert response.status_code == 207, response.content
    assert [item["name"] for item in response.json()["errors"]["files"]] == ["bad.png"]
    assert Job.objects.count() == 2 and used(api_client) == 2
    upload_file = SimpleUploadedFile("c.png", image_bytes(), "image/png")
    response = client.post("/api/jobs/", {"files": [upload_file], "operation": "contrast"},
                           HTTP_AUTHORIZATION=f"Token {secrets['token']}")
    assert (response.status_code, response.json()["code"]) == (429, "quota_exceeded")
    assert Job.objects.count() == 2


def test_a_mixed_web_batch_spends_the_allowance_of_its_sent_photos_only(alice_client, settings):
    settings.ENHANCER_WEB_DAILY_JOBS = 2
    photos = [SimpleUploadedFile("a.png", image_bytes(), "image/png"),
              SimpleUploadedFile("bad.png", b"not an image", "image/png"),
              SimpleUploadedFile("b.png", image_bytes(), "image/png")]
    response = alice_client.post(reverse("uploads:new"), {"photos": photos, "operation": "contrast"})
    assert response.status_code == 302
    assert sorted(Job.objects.values_list("input_name", flat=True)) == ["a.png", "b.png"]
    assert upload(alice_client, 1).status_code == 400  # the two sent photos spent the two units
    assert Job.objects.count() == 2
