"""The APIs answer errors in English, word for word as before templates and parameters: pages
translate, partners keep matching on the text."""

from __future__ import annotations

import pytest

from apps.imaging import codec, operations
from apps.imaging.errors import EnhancerError
from apps.providers import baidu, meitu, vk
from apps.uploads import running
from apps.uploads.models import Job
from tests.api.test_jobs_api import JOBS, auth, create
from tests.helpers import image_bytes


def _raised(call) -> EnhancerError:
    with pytest.raises(EnhancerError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize(
    ("error", "code", "english"),
    [
        (lambda: _raised(lambda: operations.get("upscale").clean_params({"factor": 3})), "bad_params", "factor must be 2 or 4, got 3."),
        (lambda: _raised(lambda: operations.get("upscale").clean_params({"factor": "x"})), "bad_params", "factor must be 2 or 4, got 'x'."),
        (lambda: _raised(lambda: operations.get("upscale").clean_params({"kind": "oil"})), "bad_params",
         "kind must be 'photo' or 'art', got 'oil'."),
        (lambda: _raised(lambda: codec.inspect(image_bytes(20, 20), codec.Limits())), "image_too_small",
         "The image is 20x20; each side must be at least 48 px."),
        (lambda: _raised(lambda: codec.inspect(b"x" * 3 * 2**20, codec.Limits(max_bytes=2**20))),
         "file_too_large", "The file is 3.0 MB; the limit is 1 MB."),
        (lambda: vk._envelope_error(401, "unauthorized"), "unavailable", "VK Cloud Vision: unauthorized"),
        (lambda: vk._envelope_error(400, {"error": "bad"}), "bad_params", 'VK Cloud Vision: {"error": "bad"}'),
        (lambda: meitu._error(400, {"ErrorMsg": "INVALID_IMAGE", "ErrorCode": 20003, "Data": "bad image"}),
         "not_an_image", "Meitu aiquality: INVALID_IMAGE (20003): bad image"),
        (lambda: baidu._error({"error_code": 18, "error_msg": "Open api qps request limit reached"}),
         "temporary", "Baidu image-process: Open api qps request limit reached (18)"),
    ],
)
@pytest.mark.django_db
def test_a_failed_jobs_error_is_the_same_english_in_every_language(client, secrets, error, code, english):
    create(client, secrets)
    job = Job.objects.get()
    running.fail(job.id, error())
    for language in ("en", "ru", "zh-hans"):
        detail = client.get(f"{JOBS}{job.uuid}/", HTTP_ACCEPT_LANGUAGE=language, **auth(secrets)).json()
        assert detail["error"] == {"code": code, "message": english}
