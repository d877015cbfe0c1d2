"""Small files that decode huge are paid for: each request decodes at most
ENHANCER_DECODE_BUDGET_MB of pixels (checked from the headers, before any pixel is decoded),
and a 16-bit or transparent photo is estimated and classed by what it really costs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.imaging import codec
from apps.uploads import costs
from apps.uploads.models import Job

pytestmark = pytest.mark.django_db

SIDE = 3000  # 9 MP: 72 MB of 16-bit RGBA pixels, a few kilobytes as a file


@pytest.fixture(scope="module")
def rgba16() -> bytes:
    pixels = np.zeros((SIDE, SIDE, 4), np.uint16)
    pixels[::7, ::5] = 65535
    ok, data = cv2.imencode(".png", pixels)
    assert ok
    return data.tobytes()


def post(client, secrets, files: list[bytes], operation: str = "contrast"):
    uploads = [SimpleUploadedFile(f"{i}.png", data, "image/png") for i, data in enumerate(files)]
    return client.post("/api/jobs/", {"files": uploads, "operation": operation},
                       HTTP_AUTHORIZATION=f"Token {secrets['token']}")


def test_a_few_16_bit_bombs_exceed_the_requests_decode_budget(client, secrets, settings, rgba16):
    assert len(rgba16) < 2 * 1024 * 1024  # small as a file
    info = codec.probe(rgba16, codec.Limits())
    assert (info.bit_depth, info.has_alpha, info.decoded_bytes) == (16, True, SIDE * SIDE * 8)
    settings.ENHANCER_DECODE_BUDGET_MB = 150  # two of them fit, three do not
    # A batch is refused file by file (issue 23): the photos within the budget get their jobs,
    # the one past it is refused undecoded with the budget's reason.
    response = post(client, secrets, [rgba16] * 3)
    assert response.status_code == 207
    (refused,) = response.json()["errors"]["files"]
    assert (refused["index"], refused["code"]) == (2, "too_many_pixels")
    assert "MB of pixels allowed per request" in refused["message"]
    assert Job.objects.count() == 2
    assert post(client, secrets, [rgba16] * 2).status_code == 202


def test_a_request_whose_first_photo_exceeds_the_budget_stores_nothing(client, secrets, settings, rgba16):
    settings.ENHANCER_DECODE_BUDGET_MB = 50  # not even one fits
    response = post(client, secrets, [rgba16] * 2)
    assert response.status_code == 413
    assert response.json()["code"] == "too_many_pixels"
    assert "MB of pixels allowed per request" in response.json()["detail"]
    assert not Job.objects.exists()


def test_a_16_bit_rgba_photo_counts_by_its_real_cost(client, secrets, settings, rgba16):
    settings.ENHANCER_LIGHT_MAX_MEGAPIXELS = 20  # 9 MP plain; 24 MP by its real cost
    response = post(client, secrets, [rgba16])
    assert response.status_code == 202
    job = Job.objects.get()
    assert job.cost_class == "heavy"
    plain = costs.plan("contrast", {}, SIDE, SIDE)
    assert plain.cost_class == "light"
    weighted = costs.plan("contrast", {}, SIDE, SIDE, weight=8 / 3)
    assert job.estimate_seconds == weighted.estimate_seconds > plain.estimate_seconds
