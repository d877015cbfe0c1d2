"""History shows and hands over results: each tile is the job's result once it has one, and the
chosen jobs' results download as one zip that never holds anyone else's."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client
from django.urls import reverse

from apps.imaging import codec
from apps.uploads.models import Job
from apps.uploads.tasks import process_job
from tests.helpers import image_bytes
from tests.uploads.factories import make_job

pytestmark = pytest.mark.django_db


def finished(owner, name: str, operation: str = "contrast") -> Job:
    # Flat grey lifts visibly under "contrast", so the result and the photo as sent differ.
    job = make_job(owner, operation, image_bytes(160, 120), name=name)
    process_job.apply(args=[job.id])
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error_message
    return job


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_finished_jobs_tile_is_its_result_and_a_queued_ones_the_photo_sent(
    alice_client, alice, bob, private_media, django_capture_on_commit_callbacks
):
    done = finished(alice, "done.png")
    waiting = make_job(alice, name="waiting.png")
    with done.outputs.get().file.open("rb") as handle:
        expected = codec.thumbnail(handle.read())
    with done.thumbnail.open("rb") as handle:
        as_sent = handle.read()
    assert expected != as_sent

    page = alice_client.get(reverse("history:list")).content.decode()
    assert f'src="{reverse("history:thumbnail", args=[done.uuid])}?v=succeeded"' in page
    tile = alice_client.get(reverse("history:thumbnail", args=[done.uuid]))
    assert tile.status_code == 200 and tile["Content-Type"] == "image/jpeg"
    assert body(tile) == expected
    assert body(alice_client.get(reverse("history:thumbnail", args=[done.uuid]))) == expected  # kept
    with waiting.thumbnail.open("rb") as handle:
        assert body(alice_client.get(reverse("history:thumbnail", args=[waiting.uuid]))) == handle.read()
    # Someone else's job is not there at all.
    bob_client = Client()
    bob_client.force_login(bob)
    assert bob_client.get(reverse("history:thumbnail", args=[done.uuid])).status_code == 404

    # The tile goes with its job.
    folder = private_media / "jobs" / str(alice.pk) / str(done.uuid)
    assert (folder / "result-thumbnail.jpg").exists()
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("history:delete", args=[done.uuid]))
    assert not folder.exists()


def test_download_selected_zips_only_my_chosen_results(alice_client, alice, bob, private_media):
    first = finished(alice, "beach.png")
    second = finished(alice, "beach.png", "dehaze")
    same_name = finished(alice, "beach.png")
    not_chosen = finished(alice, "other.png")
    waiting = make_job(alice, name="waiting.png")
    theirs = finished(bob, "bob-secret.png")

    response = alice_client.post(reverse("history:bulk_zip"), {
        "jobs": [first.uuid, second.uuid, same_name.uuid, waiting.uuid, theirs.uuid, "nonsense"],
        "next": "/history/",
    })
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert 'filename="enhancer-3-jobs.zip"' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    assert sorted(archive.namelist()) == [
        "beach-contrast-2/beach-contrasted.png",
        "beach-contrast/beach-contrasted.png",
        "beach-dehaze/beach-dehazed.png",
    ]
    with second.outputs.get().file.open("rb") as handle:
        assert archive.read("beach-dehaze/beach-dehazed.png") == handle.read()
    assert not any("bob" in name or "other" in name for name in archive.namelist())

    # Only someone else's ids (or jobs without results): nothing to download, and nothing said
    # about whose they are.
    response = alice_client.post(reverse("history:bulk_zip"),
                                 {"jobs": [theirs.uuid, waiting.uuid], "next": "/history/"}, follow=True)
    assert response.redirect_chain == [("/history/", 302)]
    page = response.content.decode()
    assert "None of the chosen jobs has results to download." in page
    assert "bob-secret" not in page
    assert not_chosen.outputs.exists()


def test_download_selected_needs_a_post_and_a_login(alice_client):
    assert alice_client.get(reverse("history:bulk_zip")).status_code == 405
    response = Client().post(reverse("history:bulk_zip"), {"jobs": []})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
