"""Storage that refuses writes (a read-only MEDIA_ROOT; a full disk fails the same way): a clear
error on the surface or the job, and no partial rows or files."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.imaging.errors import EnhancerError
from apps.uploads.models import Job
from apps.uploads.tasks import process_job
from tests.helpers import files_under, image_bytes
from tests.uploads.factories import make_job

pytestmark = pytest.mark.django_db


def test_an_upload_to_unwritable_storage_answers_503_and_stores_nothing(
    alice_client, settings, read_only
):
    read_only(settings.MEDIA_ROOT)
    response = alice_client.post(
        reverse("uploads:new"),
        {"photos": [SimpleUploadedFile("a.png", image_bytes(), "image/png")], "operation": "contrast"},
    )
    assert response.status_code == 503
    assert "storage is full or not writable" in response.content.decode()
    assert Job.objects.count() == 0
    assert files_under(settings.MEDIA_ROOT) == set()


def test_a_job_whose_results_cannot_be_written_fails_clearly_without_partial_outputs(
    alice, settings, read_only
):
    job = make_job(alice, "contrast")
    before = files_under(settings.MEDIA_ROOT)
    read_only(settings.MEDIA_ROOT)
    process_job.apply(args=[job.id])
    job.refresh_from_db()
    assert (job.status, job.error_code) == (Job.Status.FAILED, EnhancerError.STORAGE_UNAVAILABLE)
    # "(Read-only file system)" as root behind the read-only mount, "(Permission denied)" else.
    assert job.error_message.startswith("The result could not be saved (")
    assert job.error_message.endswith("); nothing was kept.")
    assert job.outputs.count() == 0
    assert files_under(settings.MEDIA_ROOT) == before
