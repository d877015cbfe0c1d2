"""The native REST API: /api/jobs/ create, list, detail, download, delete; problems.

Webhooks are tested in tests/security/test_webhooks.py.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.models import ApiClient
from apps.uploads.models import Job
from apps.uploads.tasks import process_job
from tests.helpers import image_bytes

JOBS = "/api/jobs/"


def auth(secrets) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {secrets['token']}"}


def upload(name: str = "photo.png", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else image_bytes(), "image/png")


def create(client, secrets, files=None, operation="contrast", params=None, **extra):
    data = {"files": files or [upload()], "operation": operation}
    if params is not None:
        data["params"] = params if isinstance(params, str) else json.dumps(params)
    data.update({k: v for k, v in extra.items() if not k.startswith("HTTP_")})
    headers = {k: v for k, v in extra.items() if k.startswith("HTTP_")}
    return client.post(JOBS, data, **auth(secrets), **headers)


@pytest.mark.django_db
def test_creating_a_job_answers_202_and_runs_it(client, secrets, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = create(client, secrets, [upload("a.png"), upload("b.png")])
    assert response.status_code == 202
    jobs = response.json()["jobs"]
    assert [job["input"]["name"] for job in jobs] == ["a.png", "b.png"]
    assert {job["status"] for job in jobs} == {"queued"}
    assert len(callbacks) == 1  # one publish for the batch, after commit
    assert Job.objects.filter(source="api", api_client__name="alice-app").count() == 2
    job = Job.objects.get(input_name="a.png")
    process_job.apply(args=[job.id])
    detail = client.get(f"{JOBS}{job.uuid}/", **auth(secrets)).json()
    assert (detail["status"], detail["progress"], detail["error"]) == ("succeeded", 100, None)
    (output,) = detail["outputs"]
    assert output["kind"] == "contrasted"
    download = client.get(output["url"].removeprefix("http://testserver"), **auth(secrets))
    assert download.status_code == 200 and download["Content-Type"] == "image/png"


@pytest.mark.django_db
def test_list_filters_and_paginates(client, secrets, alice):
    for operation in ("contrast", "dehaze", "contrast"):
        create(client, secrets, operation=operation)
    Job.objects.filter(operation="dehaze").update(status="failed")
    payload = client.get(JOBS, {"operation": "contrast"}, **auth(secrets)).json()
    assert payload["count"] == 2 and {job["operation"] for job in payload["results"]} == {"contrast"}
    assert client.get(JOBS, {"status": "failed"}, **auth(secrets)).json()["count"] == 1
    assert client.get(JOBS, {"page": 9}, **auth(secrets)).status_code == 404


@pytest.mark.django_db
def test_listing_takes_a_fixed_number_of_queries(client, secrets, django_assert_max_num_queries):
    for _ in range(4):
        create(client, secrets)
    with django_assert_max_num_queries(12):
        assert client.get(JOBS, **auth(secrets)).json()["count"] == 4


@pytest.mark.django_db
def test_the_same_idempotency_key_returns_the_same_jobs(client, secrets):
    first = create(client, secrets, HTTP_IDEMPOTENCY_KEY="k-1")
    again = create(client, secrets, HTTP_IDEMPOTENCY_KEY="k-1")
    other = create(client, secrets, HTTP_IDEMPOTENCY_KEY="k-2")
    assert (first.status_code, again.status_code, other.status_code) == (202, 200, 202)
    assert first.json()["jobs"][0]["id"] == again.json()["jobs"][0]["id"]
    assert Job.objects.count() == 2


@pytest.mark.django_db
def test_an_outsider_gets_404_everywhere(client, secrets, bob_secrets):
    job_id = create(client, secrets).json()["jobs"][0]["id"]
    for path in (f"{JOBS}{job_id}/", f"{JOBS}{job_id}/outputs/contrasted/"):
        response = client.get(path, **auth(bob_secrets))
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
    assert client.delete(f"{JOBS}{job_id}/", **auth(bob_secrets)).status_code == 404
    assert client.get(JOBS, **auth(bob_secrets)).json()["count"] == 0
    assert Job.objects.count() == 1


@pytest.mark.django_db
def test_delete_removes_the_job(client, secrets):
    job_id = create(client, secrets).json()["jobs"][0]["id"]
    assert client.delete(f"{JOBS}{job_id}/", **auth(secrets)).status_code == 204
    assert not Job.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"files": [upload("bad.png", b"garbage")]}, 400, "not_an_image"),
        ({"files": [upload("empty.png", b"")]}, 400, "empty_image"),
        ({"files": [upload("bad.png", b"garbage"), upload("empty.png", b"")]}, 400, "not_an_image"),
        ({"operation": "paint"}, 400, "unknown_operation"),
        ({"params": "{oops"}, 400, "invalid"),
        ({"params": "[1]"}, 400, "invalid"),
        ({"params": {"strength": 3}}, 400, "bad_params"),
        ({"webhook_url": "ftp://example.com/x"}, 400, "invalid"),
    ],
)
def test_bad_input_is_a_problem_and_stores_nothing(client, secrets, kwargs, status, code):
    response = create(client, secrets, **kwargs)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert (problem["status"], problem["code"]) == (status, code)
    assert {"type", "title", "detail"} <= set(problem)
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_mixed_batch_runs_the_good_files_and_reports_each_refused_one(client, secrets):
    photo = image_bytes(640, 480, "JPEG")
    truncated = photo[: len(photo) // 2]
    response = create(
        client, secrets,
        [upload("cut.jpg", truncated), upload("good.png"), upload("notes.jpg", b"shopping list\n")],
    )
    assert response.status_code == 207
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (207, "files_refused")
    assert [job["input"]["name"] for job in body["jobs"]] == ["good.png"]
    assert [(item["index"], item["name"]) for item in body["errors"]["files"]] == [
        (0, "cut.jpg"), (2, "notes.jpg"),
    ]
    assert [item["message"] for item in body["errors"]["files"]] == [
        "The image file is corrupt or truncated.", "The file is not an image we can read.",
    ]
    assert list(Job.objects.values_list("input_name", flat=True)) == ["good.png"]


@pytest.mark.django_db
def test_every_refused_file_is_listed_when_none_is_good(client, secrets):
    response = create(client, secrets, [upload("bad.png", b"garbage"), upload("empty.png", b"")])
    assert [item["code"] for item in response.json()["errors"]["files"]] == ["not_an_image", "empty_image"]


@pytest.mark.django_db
def test_no_file_is_a_problem(client, secrets):
    response = client.post(JOBS, {"operation": "contrast"}, **auth(secrets))
    assert response.status_code == 400 and "files" in response.json()["errors"]


@pytest.mark.django_db
def test_unavailable_operations_are_422(client, secrets, stand_ins, no_colorizer):
    response = create(client, secrets, operation="colorize")
    assert (response.status_code, response.json()["code"]) == (422, "unavailable")


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["", "Token nope", "Token a b", "Bearer x"])
def test_wrong_tokens_are_401_problems(client, header):
    response = client.get(JOBS, HTTP_AUTHORIZATION=header) if header else client.get(JOBS)
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.django_db
def test_a_revoked_client_token_stops_working(client, issued):
    api_client, secrets = issued
    api_client.delete()
    assert client.get(JOBS, **auth(secrets)).status_code == 401


@pytest.mark.django_db
def test_the_browser_session_works_too(alice_client):
    assert alice_client.get(JOBS).status_code == 200


@pytest.mark.django_db
def test_quota_and_rate_limit_are_429_problems(client, issued):
    api_client, secrets = issued
    api_client.daily_quota = 1
    api_client.save()
    assert create(client, secrets).status_code == 202
    response = create(client, secrets)
    assert (response.status_code, response.json()["code"]) == (429, "quota_exceeded")
    for _ in range(2):  # reading what was made costs no unit and stays possible
        assert client.get(JOBS, **auth(secrets)).status_code == 200
    ApiClient.objects.filter(id=api_client.id).update(daily_quota=0, rate_limit_per_minute=1)
    response = client.get(JOBS, **auth(secrets))
    assert response.status_code == 200
    response = client.get(JOBS, **auth(secrets))
    assert (response.status_code, response.json()["code"]) == (429, "rate_limited")
    assert response["Retry-After"] == "60"


@pytest.mark.django_db
def test_the_schema_and_docs_are_served(client, alice_client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/jobs/" in schema.json()["paths"]
    assert alice_client.get("/api/docs/").status_code == 200
