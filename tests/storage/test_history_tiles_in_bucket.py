"""History's result tiles live beside the job's files in the bucket and go with the job."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.imaging import codec
from apps.uploads.models import Job
from apps.uploads.tasks import process_job
from tests.helpers import image_bytes
from tests.uploads.factories import make_job

pytestmark = pytest.mark.django_db


def test_the_result_tile_is_stored_in_the_bucket_and_deleted_with_the_job(
    alice, alice_client, bucket, django_capture_on_commit_callbacks
):
    job = make_job(alice, "contrast", image_bytes(160, 120), name="photo.png")
    process_job.apply(args=[job.id])
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error_message
    prefix = f"media/jobs/{job.owner_id}/{job.uuid}/"

    tile = alice_client.get(reverse("history:thumbnail", args=[job.uuid]))
    assert tile.status_code == 200
    assert b"".join(tile.streaming_content) == bucket.read(f"{prefix}result-thumbnail.jpg")
    assert bucket.read(f"{prefix}result-thumbnail.jpg") == codec.thumbnail(
        bucket.read(f"{prefix}contrasted.png"))

    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("history:delete", args=[job.uuid]))
    assert bucket.keys() == []
