"""Uploads are hostile until proven otherwise: every refusal is clear and leaves nothing behind."""

from __future__ import annotations

import os
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.uploads.models import Job
from tests.helpers import image_bytes

pytestmark = pytest.mark.django_db


def media_files(settings) -> list[str]:
    found = []
    for folder, _dirs, files in os.walk(settings.MEDIA_ROOT):
        found += [os.path.join(folder, name) for name in files]
    return found


def post(client, *files, operation="dehaze", **extra):
    return client.post(
        reverse("uploads:new"), {"photos": list(files), "operation": operation, **extra}
    )


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size: a decompression bomb's calling card."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + header
    ihdr = struct.pack(">I", len(header)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    data = zlib.compress(b"\x00" * 64)
    idat = struct.pack(">I", len(data)) + b"IDAT" + data + struct.pack(">I", zlib.crc32(b"IDAT" + data))
    return b"\x89PNG\r\n\x1a\n" + ihdr + idat + b"\x00\x00\x00\x00IEND\xaeB`\x82"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The submitted file is empty."),
        (b"this is plain text, not a photo", "not an image we can read"),
        (b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "not an image we can read"),
        (image_bytes(300, 200, fmt="JPEG")[:-200], "corrupt or truncated"),
        (png_claiming(100_000, 100_000), "the limit is 50 megapixels"),
        (png_claiming(8_000, 8_000), "The image has 64.0 megapixels; the limit is 50."),
        (image_bytes(32, 32), "each side must be at least 48 px"),
        (image_bytes(fmt="GIF", mode="P"), "GIF images are not supported"),
    ],
    ids=["empty", "text", "pdf", "truncated-jpeg", "bomb", "over-limit", "too-small", "gif"],
)
def test_it_refuses_bad_files_with_a_clear_message(alice_client, settings, content, message):
    response = post(alice_client, SimpleUploadedFile("photo.jpg", content, "image/jpeg"))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Job.objects.count() == 0
    assert media_files(settings) == []


def test_it_refuses_a_file_over_the_size_limit(alice_client, settings):
    settings.ENHANCER_MAX_UPLOAD_BYTES = 1000
    response = post(alice_client, SimpleUploadedFile("big.png", image_bytes(400, 400), "image/png"))
    assert "the limit is 0 MB" in response.content.decode() or "MB" in response.content.decode()
    assert Job.objects.count() == 0


def test_a_bad_file_leaves_the_good_ones_going_and_is_named_with_its_reason(alice_client):
    good = SimpleUploadedFile("good.png", image_bytes(), "image/png")
    cut = SimpleUploadedFile("cut.jpg", image_bytes(300, 200, fmt="JPEG")[:-200], "image/jpeg")
    bad = SimpleUploadedFile("bad.png", b"nope", "image/png")
    response = alice_client.post(
        reverse("uploads:new"), {"photos": [cut, good, bad], "operation": "dehaze"}, follow=True
    )
    assert list(Job.objects.values_list("input_name", flat=True)) == ["good.png"]
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("history:detail", args=[Job.objects.get().uuid])
    assert "1 photo was sent. 2 were left out" in page
    assert "cut.jpg: The image file is corrupt or truncated." in page
    assert "bad.png: The file is not an image we can read." in page
    assert 'class="message warning"' in page


def test_when_every_file_is_bad_nothing_is_stored_and_each_is_named(alice_client, settings):
    bad = SimpleUploadedFile("bad.png", b"nope", "image/png")
    empty = SimpleUploadedFile("empty.png", b"\x00", "image/png")
    response = alice_client.post(
        reverse("uploads:new"), {"photos": [bad, empty], "operation": "dehaze"}, HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert set(response.json()["files"]) == {"0", "1"}
    assert Job.objects.count() == 0
    assert media_files(settings) == []


def test_it_refuses_an_unknown_operation(alice_client):
    response = post(alice_client, SimpleUploadedFile("a.png", image_bytes(), "image/png"), operation="melt")
    assert "Select a valid choice" in response.content.decode()
    assert Job.objects.count() == 0


def test_it_queues_one_job_per_photo_after_commit(alice_client, alice, django_capture_on_commit_callbacks):
    files = [SimpleUploadedFile(f"p{i}.png", image_bytes(), "image/png") for i in range(3)]
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(alice_client, *files, operation="contrast")
    assert response.status_code == 302
    jobs = Job.objects.filter(owner=alice)
    assert jobs.count() == 3
    assert {job.status for job in jobs} == {Job.Status.QUEUED}
    assert {job.input_name for job in jobs} == {"p0.png", "p1.png", "p2.png"}
    # One publish of the whole batch, only once the rows are committed (it withdraws the batch
    # if the broker refuses: test_broker_down.py).
    assert len(callbacks) == 1
    job = jobs.first()
    assert (job.input_width, job.input_height, job.input_format) == (96, 64, "PNG")
    assert job.thumbnail


def test_upload_page_needs_login(client):
    response = client.get(reverse("uploads:new"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
