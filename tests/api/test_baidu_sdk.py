"""Baidu's own Python SDK (baidu-aip), its host pointed at a live server of ours."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from apps.uploads.models import Job
from tests.helpers import image_bytes

aip = pytest.importorskip("aip")

URLS = {
    "imageQualityEnhance": "image_quality_enhance",
    "dehaze": "dehaze",
    "contrastEnhance": "contrast_enhance",
    "colourize": "colourize",
}


def sdk_client(base_url: str, api_key: str, secret_key: str):
    client = aip.AipImageProcess("1", api_key, secret_key)
    # The SDK keeps its URLs in name-mangled class attributes; an instance attribute wins.
    client._AipBase__accessTokenUrl = f"{base_url}/oauth/2.0/token"
    for method, path in URLS.items():
        attribute = f"_AipImageProcess__{method[0].lower()}{method[1:]}Url"
        assert hasattr(client, attribute), attribute
        setattr(client, attribute, f"{base_url}/rest/2.0/image-process/v1/{path}")
    return client


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
def test_the_sdk_gets_results_from_all_four_methods(live_server, secrets):
    client = sdk_client(live_server.url, secrets["baidu_api_key"], secrets["baidu_secret_key"])
    photo = image_bytes(240, 200, fmt="JPEG")
    for method in URLS:
        result = getattr(client, method)(photo)
        assert set(result) == {"log_id", "image"}, (method, result)
        size = Image.open(io.BytesIO(base64.b64decode(result["image"]))).size
        assert size == ((480, 400) if method == "imageQualityEnhance" else (240, 200))
    assert Job.objects.filter(source="baidu", status="succeeded").count() == 4


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
def test_the_sdk_sees_baidus_errors(live_server, secrets):
    client = sdk_client(live_server.url, secrets["baidu_api_key"], secrets["baidu_secret_key"])
    result = client.dehaze(image_bytes(100, 100, fmt="JPEG"))
    assert (result["error_code"], result["error_msg"]) == (216202, "image size error")
    result = client.contrastEnhance(b"not an image at all")
    assert (result["error_code"], result["error_msg"]) == (216201, "image format error")
    assert not Job.objects.exists()


@pytest.mark.usefixtures("inline_jobs")
def test_the_sdk_with_a_wrong_secret_gets_an_auth_error(live_server, secrets):
    client = sdk_client(live_server.url, secrets["baidu_api_key"], "wrong-secret")
    result = client.dehaze(image_bytes(240, 200, fmt="JPEG"))
    assert result["error_code"] == 14  # no token, so the SDK signs; we do not accept that
    assert not Job.objects.exists()
