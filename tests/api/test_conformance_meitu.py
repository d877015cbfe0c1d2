"""Meitu aiquality against its document (../shared/specs/meitu-aiquality.md), item by item: what
test_meitu.py leaves open — truthful "jpg" pictures, one failure status, remote ``url`` inputs and
the image limits at their edges. Where the document contradicts itself, the test says which side
we follow and why.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from apps.api import access
from apps.imaging import operations
from apps.imaging.errors import EnhancerError
from apps.uploads.models import Job
from tests.api.meitu_helpers import URL, post, request_body
from tests.helpers import image_bytes
from tests.security.receivers import Receiver

JSON_UTF8 = "application/json; charset=utf-8"


def jpeg_media(payload: dict) -> Image.Image:
    (media,) = payload["media_info_list"]
    assert media["media_profiles"] == {"media_data_type": "jpg"}
    raw = base64.b64decode(media["media_data"], validate=True)
    assert raw[:3] == b"\xff\xd8\xff", "labelled jpg but not a JPEG"
    return Image.open(io.BytesIO(raw))


def half_transparent_png() -> bytes:
    pixels = np.zeros((64, 96, 4), np.uint8)
    pixels[:, :, 2] = 220
    pixels[:, :48, 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, "PNG")
    return buffer.getvalue()


def assert_failure(response, code: int, msg: str) -> str:
    """The document's failure: HTTP 400, its content type, exactly ErrorCode/ErrorMsg/Data."""
    assert response.status_code == 400
    assert response["Content-Type"] == JSON_UTF8
    payload = response.json()
    assert set(payload) == {"ErrorCode", "ErrorMsg", "Data"}
    assert (payload["ErrorCode"], payload["ErrorMsg"]) == (code, msg)
    # The example shows "Data": null; the table types Data as String ("具体信息"). We send the
    # detail as a string, so a client can tell failures apart.
    assert isinstance(payload["Data"], str) and payload["Data"]
    return payload["Data"]


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
class TestPictures:
    def test_a_png_photo_comes_back_as_the_jpeg_its_label_says(self, client, secrets):
        response = post(client, secrets, request_body(half_transparent_png()))
        assert response.status_code == 200 and response["Content-Type"] == JSON_UTF8
        picture = jpeg_media(response.json()).convert("RGB")
        assert picture.size == (96, 64)
        assert picture.getpixel((10, 30))[2] > 200  # the opaque half keeps its blue
        assert min(picture.getpixel((90, 30))) >= 250  # the transparent half is white

    def test_a_png_needing_no_repair_comes_back_as_a_jpeg_too(self, client, secrets, monkeypatch):
        untouched = operations.Operation(
            "restore", "Restore", lambda p, _params, _progress: operations.Result({}, {}))
        monkeypatch.setitem(operations.REGISTRY, "restore", untouched)
        response = post(client, secrets, request_body(image_bytes(96, 64, "PNG")))
        assert jpeg_media(response.json()).size == (96, 64)

    @pytest.mark.parametrize("size", [(48, 48), (4096, 48), (48, 4096)])
    def test_the_documented_size_limits_include_their_ends(self, client, secrets, size):
        # "最小 48*48 像素，最大 4096*4096 像素"
        response = post(client, secrets, request_body(image_bytes(*size, "PNG")))
        assert response.status_code == 200
        assert jpeg_media(response.json()).size == size


@pytest.mark.django_db
def test_a_job_outliving_the_wait_is_a_400_process_error(client, secrets, monkeypatch, stand_ins):
    from apps.api.compat import common, meitu

    # Admitted under the normal wait, then the wait runs out: no worker runs here, so the job
    # stays queued.
    monkeypatch.setattr(meitu, "wait_all", lambda jobs: common.wait_all(jobs, timeout=0))
    response = post(client, secrets, request_body(image_bytes(fmt="JPEG")))
    data = assert_failure(response, 20001, "PROCESS_ERROR")
    assert data == "timeout: the job is still running; try again later"
    assert Job.objects.get().status == Job.Status.QUEUED


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
def test_a_temporary_failure_is_a_400_process_error_that_says_so(client, secrets, monkeypatch):
    def busy(picture, params, progress):
        raise EnhancerError(EnhancerError.TEMPORARY, "the provider is busy")

    monkeypatch.setitem(operations.REGISTRY, "restore", operations.Operation("restore", "R", busy))
    data = assert_failure(post(client, secrets, request_body(image_bytes(fmt="JPEG"))),
                          20001, "PROCESS_ERROR")
    assert data == "temporary failure, try again: the provider is busy"


@pytest.mark.django_db
def test_a_refused_key_a_quota_and_a_get_are_400_too(client, issued):
    api_client, secrets = issued
    assert_failure(post(client, secrets, request_body(image_bytes()), "nobody", "x"),
                   10001, "INVALID_API_KEY")
    assert_failure(client.get(f"{URL}?api_key=a&api_secret=b"), 10000, "INVALID_PARAMETER")
    api_client.daily_quota = 1
    api_client.save()
    for _ in range(2):  # a refused request spends no unit
        assert_failure(post(client, secrets, "{"), 10000, "INVALID_PARAMETER")
    access.take_work(api_client, 1)  # the day's work
    assert_failure(post(client, secrets, "{"), 10003, "DAILY_QUOTA_EXCEEDED")


@pytest.fixture
def served():
    """A real HTTP server on loopback that answers every GET with the given picture."""
    started: list[Receiver] = []

    def serve(body: bytes, status: int = 200, headers: dict | None = None) -> Receiver:
        receiver = Receiver(status=status, body=body, headers=headers or {}).start()
        started.append(receiver)
        return receiver

    yield serve
    for receiver in started:
        receiver.stop()


def url_body(url: str) -> dict:
    # "'url', 表示 media_data 是图片 url 地址" and "url 不经过编码": the address itself.
    return {"parameter": {"rsp_media_type": "base64"},
            "media_info_list": [{"media_data": url, "media_profiles": {"media_data_type": "url"}}]}


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
def test_a_url_input_is_fetched_when_its_network_is_allowed(client, secrets, settings, served):
    settings.ENHANCER_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the operator's choice
    photo = image_bytes(96, 64, "JPEG")
    receiver = served(photo, headers={"Content-Type": "image/jpeg"})
    response = post(client, secrets, url_body(f"{receiver.url}/photo.jpg?sig=1"))
    assert response.status_code == 200
    assert jpeg_media(response.json()).size == (96, 64)
    (call,) = receiver.calls
    assert call.path == "/photo.jpg?sig=1"
    job = Job.objects.get()
    with job.input_file.open("rb") as handle:
        assert handle.read() == photo


@pytest.mark.django_db
def test_a_url_on_a_private_network_is_refused_without_being_fetched(client, secrets, served):
    receiver = served(image_bytes(96, 64, "JPEG"))  # loopback, not allowed by default
    data = assert_failure(post(client, secrets, url_body(f"{receiver.url}/photo.jpg")),
                          10004, "INVALID_IMAGE")
    assert "not a public internet address" in data
    assert receiver.calls == [] and not Job.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://169.254.169.254/latest/meta-data/",
                                 "http://[::1]/x.jpg", "not a url"])
def test_urls_that_may_not_be_fetched_are_refused(client, secrets, url):
    data = assert_failure(post(client, secrets, url_body(url)), 10004, "INVALID_IMAGE")
    assert data.startswith("media_data url could not be fetched: ")
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_a_redirect_is_not_followed(client, secrets, settings, served):
    settings.ENHANCER_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    target = served(image_bytes(96, 64, "JPEG"))
    redirecting = served(b"", status=302, headers={"Location": f"{target.url}/inside.jpg"})
    data = assert_failure(post(client, secrets, url_body(redirecting.url)), 10004, "INVALID_IMAGE")
    assert data == "media_data url answered HTTP 302 (redirects are not followed)"
    assert target.calls == []


@pytest.mark.django_db
def test_a_remote_picture_over_2_mb_is_refused(client, secrets, settings, served):
    settings.ENHANCER_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    receiver = served(b"\xff\xd8\xff" + b"x" * (2 * 1024 * 1024))
    data = assert_failure(post(client, secrets, url_body(receiver.url)), 10004, "INVALID_IMAGE")
    assert "larger than 2097152 bytes" in data
    assert not Job.objects.exists()
