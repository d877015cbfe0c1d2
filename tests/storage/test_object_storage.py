"""Media in an S3-compatible bucket: stored there and nowhere local, private, streamed back to
the owner only (or handed out as a short-lived signed link), removed with the job."""

from __future__ import annotations

import pytest
import requests
from botocore.response import StreamingBody
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.accounts.models import ApiClient
from apps.api.downloads import signed_url
from apps.common.files import private_file_response
from apps.uploads.models import Job
from apps.uploads.tasks import process_job
from enhancer_site import storage_url
from tests.helpers import files_under, image_bytes

from .conftest import use_bucket

PUBLIC_GROUPS = (
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
)


def submit(client, operation: str = "contrast", data: bytes | None = None, **headers) -> Job:
    photo = SimpleUploadedFile("photo.png", data or image_bytes(), "image/png")
    response = client.post("/api/jobs/", {"files": [photo], "operation": operation}, **headers)
    assert response.status_code == 202, response.content
    return Job.objects.get(uuid=response.json()["jobs"][0]["id"])


def test_an_empty_storage_url_keeps_files_on_the_local_disk():
    parsed = storage_url.parse("")
    assert parsed.backend["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert parsed.presigned_seconds == 0


def test_an_s3_url_names_a_private_bucket_and_its_options():
    parsed = storage_url.parse(
        "s3://photos/enhancer/media?endpoint_url=http://minio:9000&region_name=eu-west-1"
        "&addressing_style=path&verify=false&presigned_seconds=120"
    )
    options = parsed.backend["OPTIONS"]
    assert parsed.backend["BACKEND"] == "enhancer_site.object_storage.MediaStorage"
    assert (options["bucket_name"], options["location"]) == ("photos", "enhancer/media")
    assert (options["endpoint_url"], options["region_name"]) == ("http://minio:9000", "eu-west-1")
    assert (options["addressing_style"], options["verify"]) == ("path", False)
    assert options["default_acl"] is None and options["querystring_auth"] is True
    assert (parsed.presigned_seconds, options["querystring_expire"]) == (120, 120)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://bucket", "must be empty"),
        ("s3://", "needs a bucket"),
        ("s3://key:secret@bucket", "must not carry credentials"),
        ("s3://bucket?acl=public-read", "unknown option(s) acl"),
        ("s3://bucket?presigned_seconds=soon", "whole number"),
        ("s3://bucket?presigned_seconds=99999999", "presigned_seconds must be"),
        ("s3://bucket?addressing_style=sideways", "addressing_style"),
        ("s3://bucket?verify=maybe", "verify must be"),
    ],
)
def test_a_bad_storage_url_stops_the_start(url, message):
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(").replace(")", r"\)")):
        storage_url.parse(url)


@pytest.mark.django_db
def test_uploads_go_to_the_bucket_privately_and_stream_back_to_the_owner_only(
    alice_client, bob, client, bucket, private_media
):
    original = image_bytes(120, 80)
    job = submit(alice_client, data=original)
    prefix = f"media/jobs/{job.owner_id}/{job.uuid}/"
    assert bucket.keys() == [f"{prefix}input.png", f"{prefix}thumbnail.jpg"]
    assert bucket.read(f"{prefix}input.png") == original
    assert files_under(private_media) == set()
    for key in bucket.keys():
        grants = bucket.client.get_object_acl(Bucket=bucket.name, Key=key)["Grants"]
        assert not [g for g in grants if g["Grantee"].get("URI") in PUBLIC_GROUPS], grants

    response = alice_client.get(reverse("uploads:input", args=[job.uuid]) + "?download=1")
    assert response.status_code == 200 and response.streaming
    assert int(response["Content-Length"]) == len(original)
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == original

    client.force_login(bob)
    assert client.get(reverse("uploads:input", args=[job.uuid])).status_code == 404


@pytest.mark.django_db
def test_a_download_relays_the_objects_body_without_reading_it_first(alice_client, bucket):
    job = submit(alice_client)
    response = private_file_response(job.input_file, "photo.png")
    assert isinstance(response.file_to_stream, StreamingBody)
    assert response.file_to_stream.tell() == 0  # nothing read until the server iterates
    assert b"".join(response) == bucket.read(f"media/{job.input_file.name}")
    response.close()


@pytest.mark.django_db
def test_outputs_signed_links_and_deletion_all_go_through_the_bucket(
    alice, alice_client, bucket, rf, django_capture_on_commit_callbacks
):
    # A partner's job (Meitu hands out signed links only to API clients).
    _client, secrets = ApiClient.issue(alice, "alice-app", daily_quota=0, rate_limit_per_minute=0)
    job = submit(alice_client, HTTP_AUTHORIZATION=f"Token {secrets['token']}")
    process_job.apply(args=[job.id])
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error_message
    output = job.outputs.get()
    prefix = f"media/jobs/{job.owner_id}/{job.uuid}/"
    assert f"{prefix}contrasted.png" in bucket.keys()

    page = alice_client.get(reverse("uploads:output", args=[job.uuid, "contrasted"]))
    assert b"".join(page.streaming_content) == bucket.read(f"{prefix}contrasted.png")

    # Meitu's rsp_media_type=url link: no login, the signature is the authorisation.
    link = signed_url(rf.get("/"), job, output).removeprefix("http://testserver")
    signed = alice_client.__class__().get(link)
    assert signed.status_code == 200
    assert b"".join(signed.streaming_content) == bucket.read(f"{prefix}contrasted.png")

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("history:delete", args=[job.uuid]))
    assert response.status_code == 302
    assert bucket.keys() == []


@pytest.mark.django_db
def test_an_object_missing_from_the_bucket_is_a_404(alice_client, bucket):
    job = submit(alice_client)
    bucket.client.delete_object(Bucket=bucket.name, Key=f"media/{job.input_file.name}")
    assert alice_client.get(reverse("uploads:input", args=[job.uuid])).status_code == 404


@pytest.mark.django_db
def test_an_unusable_bucket_is_a_503_and_nothing_is_stored(alice_client, bucket):
    bucket.client.delete_bucket(Bucket=bucket.name)
    photo = SimpleUploadedFile("photo.png", image_bytes(), "image/png")
    response = alice_client.post("/api/jobs/", {"files": [photo], "operation": "contrast"})
    assert (response.status_code, response.json()["code"]) == (503, "storage_unavailable")
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_presigned_downloads_redirect_to_a_link_that_expires(
    alice_client, bob, client, settings, monkeypatch, s3_endpoint
):
    bucket = use_bucket(settings, monkeypatch, s3_endpoint, "presigned_seconds=60")
    original = image_bytes(100, 70)
    job = submit(alice_client, data=original)

    response = alice_client.get(reverse("uploads:input", args=[job.uuid]) + "?download=1")
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    link = response["Location"]
    assert link.startswith(f"{s3_endpoint}/{bucket.name}/media/jobs/")
    assert "X-Amz-Expires=60" in link and "X-Amz-Signature=" in link
    fetched = requests.get(link, timeout=10)
    assert fetched.status_code == 200 and fetched.content == original
    assert fetched.headers["Content-Type"] == "image/png"
    assert fetched.headers["Content-Disposition"].startswith("attachment")

    # The ownership check still comes first: an outsider gets no link at all.
    client.force_login(bob)
    assert client.get(reverse("uploads:input", args=[job.uuid])).status_code == 404
