"""VK Cloud Vision /api/v1/photo/improve: every example of the spec, then bad input."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from apps.api import access
from apps.uploads.models import Job
from tests.api.vk_helpers import envelope, jpeg, vk_post

IMPROVE = "/api/v1/photo/improve"


def decoded_size(encoded: str) -> tuple[int, int]:
    return Image.open(io.BytesIO(base64.b64decode(encoded))).size


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
class TestSpecExamples:
    def test_the_improve_example_answers_all_three_pictures_and_bw(self, client, secrets):
        meta = {"mode": ["improve"], "images": [{"name": "file"}]}
        response = vk_post(client, IMPROVE, secrets["token"], meta, {"file": jpeg()})
        assert response.status_code == 200
        payload = response.json()
        assert set(payload) == {"status", "body", "htmlencoded", "last_modified"}
        assert (payload["status"], payload["htmlencoded"], payload["last_modified"]) == (200, False, 0)
        (item,) = payload["body"]["improve"]
        # The example's field names (the table's "colored" is the example's "colorized").
        assert set(item) == {"status", "name", "improved", "colorized_improved", "colorized", "bw"}
        assert (item["status"], item["name"], item["bw"]) == (0, "file", True)
        assert decoded_size(item["improved"]) == (96, 64)

    def test_the_resolution_example_answers_a_twice_larger_picture(self, client, secrets):
        meta = {"mode": ["resolution"], "rfactor": 2, "rtype": "photo", "images": [{"name": "file"}]}
        response = vk_post(client, IMPROVE, secrets["token"], meta, {"file": jpeg()})
        payload = response.json()
        assert response.status_code == 200 and payload["status"] == 200
        (item,) = payload["body"]["resolution"]
        assert set(item) == {"status", "name", "resolved"}
        assert (item["status"], item["name"]) == (0, "file")
        assert decoded_size(item["resolved"]) == (192, 128)
        job = Job.objects.get()
        assert (job.source, job.operation) == ("vk", "upscale")
        assert job.params == {"factor": 2, "kind": "photo", "quality": "best"}  # the engine's default tier

    def test_the_incorrect_rfactor_example(self, client, secrets):
        meta = {"mode": ["resolution"], "rfactor": 1010, "rtype": "photo", "images": [{"name": "file"}]}
        response = vk_post(client, IMPROVE, secrets["token"], meta, {"file": jpeg()})
        assert response.status_code == 400
        assert response.json() == envelope(400, "rfactor must be 2 or 4")
        assert not Job.objects.exists()

    def test_the_invalid_image_example(self, client, secrets):
        meta = {"mode": ["resolution"], "rfactor": 2, "rtype": "photo", "images": [{"name": "file"}]}
        response = vk_post(client, IMPROVE, secrets["token"], meta, {"file": b""})
        assert response.json() == envelope(400, "empty image")
        assert not Job.objects.exists()

    def test_the_invalid_meta_parameter_example(self, client, secrets):
        meta = {"mode": ["resolution"], "rfactor": 2, "rtype": "photo", "images": [{"name": "file1"}]}
        response = vk_post(client, IMPROVE, secrets["token"], meta, {"file": jpeg()})
        assert response.json() == envelope(
            400, "could not get image by name file1: http: no such file"
        )
        assert not Job.objects.exists()


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
def test_both_modes_and_several_images_answer_per_mode_and_per_name(client, secrets):
    meta = {"mode": ["improve", "resolution"], "rfactor": 4, "ftype": "art",
            "images": [{"name": "a"}, {"name": "b"}]}
    response = vk_post(client, IMPROVE, secrets["token"], meta, {"a": jpeg(), "b": jpeg(64, 64)})
    body = response.json()["body"]
    assert [item["name"] for item in body["improve"]] == ["a", "b"]
    assert [item["name"] for item in body["resolution"]] == ["a", "b"]
    assert Job.objects.filter(source="vk").count() == 4
    assert Job.objects.get(operation="upscale", input_name="b.jpg").params == {"factor": 4, "kind": "art", "quality": "best"}


@pytest.mark.django_db
def test_a_job_slower_than_the_wait_is_a_temporary_error_and_stays_in_history(
    client, secrets, settings, stand_ins
):
    # Long enough for the job's estimate (so it is accepted), but the job is only queued: no
    # worker here.
    settings.ENHANCER_COMPAT_WAIT_SECONDS = 1
    meta = {"mode": ["improve"], "images": [{"name": "file"}]}
    payload = vk_post(client, IMPROVE, secrets["token"], meta, {"file": jpeg()}).json()
    (item,) = payload["body"]["improve"]
    assert payload["status"] == 200
    assert (item["status"], item["name"]) == (2, "file") and item["error"]
    assert Job.objects.get().status == Job.Status.QUEUED


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
def test_a_failed_job_is_a_permanent_error_of_that_object(client, secrets, monkeypatch):
    from apps.imaging import operations
    from apps.imaging.errors import EnhancerError

    def broken(picture, params, progress):
        raise EnhancerError(EnhancerError.INTERNAL, "the model broke")

    monkeypatch.setitem(operations.REGISTRY, "improve",
                        operations.Operation("improve", "Improve", broken))
    meta = {"mode": ["improve"], "images": [{"name": "file"}]}
    (item,) = vk_post(client, IMPROVE, secrets["token"], meta, {"file": jpeg()}).json()["body"]["improve"]
    assert item == {"status": 1, "error": "the model broke", "name": "file"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "status", "text"),
    [
        ("", 401, "empty oauth_token"),
        ("?oauth_token=abc", 401, "empty oauth_provider"),
        ("?oauth_token=abc&oauth_provider=vk", 401, "unknown oauth_provider vk"),
        ("?oauth_token=wrong&oauth_provider=mcs", 403, "invalid oauth_token"),
    ],
)
def test_bad_credentials_are_refused_in_the_envelope(client, query, status, text):
    response = client.post(IMPROVE + query, {"meta": "{}"})
    assert response.status_code == status
    assert response.json() == envelope(status, text)


@pytest.mark.django_db
def test_a_disabled_client_is_refused(client, issued):
    api_client, secrets = issued
    api_client.enabled = False
    api_client.save()
    meta = {"mode": ["improve"], "images": [{"name": "file"}]}
    assert vk_post(client, IMPROVE, secrets["token"], meta, {"file": jpeg()}).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("meta", "text"),
    [
        ("{not json", "could not parse meta: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ("[1]", "could not parse meta: meta must be a JSON object"),
        ({"images": [{"name": "file"}]}, "empty mode"),
        ({"mode": ["paint"], "images": [{"name": "file"}]}, "unknown mode paint"),
        ({"mode": ["improve"]}, "empty images"),
        ({"mode": ["improve"], "images": [{}]}, "empty image name"),
        ({"mode": ["resolution"], "rfactor": 2, "images": [{"name": "file"}]}, "ftype must be art or photo"),
        ({"mode": ["resolution"], "rfactor": "2", "ftype": "photo", "images": [{"name": "file"}]}, "rfactor must be 2 or 4"),
    ],
)
def test_bad_meta_is_refused_and_nothing_is_stored(client, secrets, meta, text, stand_ins):
    response = vk_post(client, IMPROVE, secrets["token"], meta, {"file": jpeg()})
    assert response.json() == envelope(400, text)
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_missing_meta_is_refused(client, secrets):
    response = client.post(f"{IMPROVE}?oauth_token={secrets['token']}&oauth_provider=mcs", {})
    assert response.json() == envelope(400, "no meta has been provided")


@pytest.mark.django_db
def test_a_corrupt_image_among_good_ones_refuses_the_whole_request(client, secrets, stand_ins):
    meta = {"mode": ["improve"], "images": [{"name": "good"}, {"name": "bad"}]}
    response = vk_post(client, IMPROVE, secrets["token"], meta,
                       {"good": jpeg(), "bad": b"\xff\xd8\xff not really a jpeg"})
    assert response.status_code == 400
    assert response.json()["body"].startswith("invalid image bad: ")
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_get_is_not_allowed(client, secrets):
    assert client.get(IMPROVE).status_code == 405


@pytest.mark.django_db
def test_the_rate_limit_is_answered_with_429_in_the_envelope(client, issued, stand_ins):
    api_client, secrets = issued
    api_client.rate_limit_per_minute = 1
    api_client.save()
    meta = "{bad"
    vk_post(client, IMPROVE, secrets["token"], meta)
    response = vk_post(client, IMPROVE, secrets["token"], meta)
    assert response.json() == envelope(429, "rate limit exceeded")


@pytest.mark.django_db
def test_the_daily_quota_is_answered_with_429_in_the_envelope(client, issued):
    api_client, secrets = issued
    api_client.daily_quota = 2
    api_client.save()
    for _ in range(3):  # refused requests spend no unit
        assert vk_post(client, IMPROVE, secrets["token"], "{bad").json()["status"] == 400
    access.take_work(api_client, 2)  # the day's work
    assert vk_post(client, IMPROVE, secrets["token"], "{bad").json() == envelope(429, "daily quota exceeded")


@pytest.mark.slow
@pytest.mark.usefixtures("inline_jobs")
def test_a_real_resolution_request_upscales_with_the_model(client, secrets):
    from apps.imaging import operations

    if "upscale" not in operations.REGISTRY or operations.get("upscale").unavailable_reason():
        pytest.skip("the upscale operation is not installed yet")
    meta = {"mode": ["resolution"], "rfactor": 2, "ftype": "photo", "images": [{"name": "file"}]}
    response = vk_post(client, IMPROVE, secrets["token"], meta, {"file": jpeg(64, 48)})
    (item,) = response.json()["body"]["resolution"]
    assert item["status"] == 0, item
    assert decoded_size(item["resolved"]) == (128, 96)


@pytest.mark.slow
@pytest.mark.usefixtures("inline_jobs")
def test_a_real_improve_request_restores_with_the_model(client, secrets):
    from apps.imaging import operations

    if "improve" not in operations.REGISTRY or operations.get("improve").unavailable_reason():
        pytest.skip("the improve operation is not installed yet")
    meta = {"mode": ["improve"], "images": [{"name": "file"}]}
    response = vk_post(client, IMPROVE, secrets["token"], meta, {"file": jpeg(64, 48)})
    (item,) = response.json()["body"]["improve"]
    assert item["status"] == 0, item
    assert isinstance(item["bw"], bool)
