"""Hostile input on every surface: each answer is that surface's own clear error, never a 5xx,
and a refused request stores nothing (no job row, no file).

Hypothesis runs are bounded (a few dozen to a few hundred examples each, no shrinking past the
first failure's neighbourhood) so the whole module stays well under a minute.
"""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.imaging import codec
from apps.imaging.errors import EnhancerError
from tests.api.meitu_helpers import post as meitu_post
from tests.api.meitu_helpers import request_body
from tests.hardening.hostile import HOSTILE_FILES, any_bytes, json_values, maybe
from tests.helpers import files_under, image_bytes

FUZZ = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))
SMALL_LIMITS = codec.Limits(max_bytes=5 * 1024 * 1024, max_pixels=4_000_000, min_side=48,
                            max_side=8000)


# --------------------------------------------------------------------------- decoding


@settings(max_examples=250, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=any_bytes)
def test_decoding_any_bytes_raises_nothing_but_enhancer_error(data):
    for decode in (codec.probe, codec.inspect, codec.decode, lambda d, limits: codec.thumbnail(d, 64, limits)):
        try:
            decode(data, SMALL_LIMITS)
        except EnhancerError as error:
            assert error.code in {
                EnhancerError.EMPTY_IMAGE, EnhancerError.NOT_AN_IMAGE,
                EnhancerError.UNSUPPORTED_FORMAT, EnhancerError.FILE_TOO_LARGE,
                EnhancerError.TOO_MANY_PIXELS, EnhancerError.IMAGE_TOO_SMALL,
                EnhancerError.IMAGE_TOO_LARGE,
            }, error
            assert error.message


@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_each_hostile_file_gets_its_own_error_code(name):
    data, codes = HOSTILE_FILES[name]
    with pytest.raises(EnhancerError) as raised:
        codec.inspect(data, codec.Limits())
    assert raised.value.code in codes


# --------------------------------------------------------------------------- every surface


def stored(media_root) -> tuple:
    from apps.face_registry.models import Face, Person
    from apps.uploads.models import Job

    return Job.objects.count(), Person.objects.count(), Face.objects.count(), files_under(media_root)


@pytest.fixture
def partner(db, alice, settings):
    from apps.accounts.models import ApiClient
    from apps.api import access

    # A job that is stored anyway must not hold a synchronous endpoint.
    settings.ENHANCER_COMPAT_WAIT_SECONDS = 0
    client, secrets = ApiClient.issue(alice, "fuzz", daily_quota=0, rate_limit_per_minute=0)
    return {**secrets, "baidu_access_token": access.issue_baidu_token(client)[0]}


def vk_post(client, partner, endpoint: str, meta, files: dict[str, bytes], raw_meta: str | None = None):
    data: dict = {name: _upload(name, content) for name, content in files.items()}
    data["meta"] = raw_meta if raw_meta is not None else json.dumps(meta)
    return client.post(
        f"/api/v1/{endpoint}?oauth_token={partner['token']}&oauth_provider=mcs", data
    )


def _upload(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="image/jpeg")


def assert_vk(response, before, media_root) -> None:
    assert response.status_code < 500, response.content[:500]
    body = response.json()
    assert set(body) == {"status", "body", "htmlencoded", "last_modified"}
    assert body["status"] == response.status_code
    if response.status_code != 200:
        assert isinstance(body["body"], str) and body["body"]
        assert stored(media_root) == before, "a refused VK request stored something"


def assert_baidu(response, before, media_root) -> None:
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    if "error_code" in body:
        assert isinstance(body["error_code"], int) and body["error_msg"]
        if body["error_code"] in (3, 100, 110, 216200, 216201, 216202):
            assert stored(media_root) == before, "a refused Baidu request stored something"
    else:
        assert set(body) == {"log_id", "image"}


def assert_meitu(response, before, media_root) -> None:
    assert response.status_code in (200, 400), response.content[:500]
    body = response.json()
    if response.status_code == 400:
        assert isinstance(body["ErrorCode"], int) and body["ErrorMsg"]
        if body["ErrorCode"] != 20001:  # 20001: a stored job that failed or is still running
            assert stored(media_root) == before, "a refused Meitu request stored something"


SURFACES = ("web", "api", "vk", "baidu", "meitu")


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("name", sorted(HOSTILE_FILES))
def test_a_hostile_file_is_refused_clearly_by_every_surface(client, alice, partner, private_media,
                                                            name, surface):
    data, codes = HOSTILE_FILES[name]
    before = stored(private_media)
    if surface == "web":
        client.force_login(alice)
        response = client.post("/upload/", {"photos": _upload("photo.jpg", data), "operation": "contrast"})
        assert response.status_code == 200  # the form again, with the reason
        assert response.context["form"].errors
    elif surface == "api":
        response = client.post("/api/jobs/", {"files": _upload("photo.jpg", data), "operation": "contrast"},
                               headers={"Authorization": f"Token {partner['token']}"})
        assert response["Content-Type"] == "application/problem+json"
        assert 400 <= response.status_code < 500
        assert response.json()["code"] in (*codes, "invalid")
    elif surface == "vk":
        meta = {"mode": ["improve"], "images": [{"name": "photo"}]}
        response = vk_post(client, partner, "photo/improve", meta, {"photo": data})
        assert response.status_code == 400 and response.json()["body"]
        assert_vk(response, before, private_media)
    elif surface == "baidu":
        response = client.post(
            f"/rest/2.0/image-process/v1/contrast_enhance?access_token={partner['baidu_access_token']}",
            {"image": base64.b64encode(data).decode()},
        )
        assert response.json()["error_code"] in (216200, 216201, 216202)
        assert_baidu(response, before, private_media)
    else:
        response = meitu_post(client, partner, request_body(data, rsp_media_type=None))
        assert response.status_code == 400 and response.json()["ErrorCode"] == 10004
    assert stored(private_media) == before


# --------------------------------------------------------------------------- malformed requests


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("meta", [
    "{", "null", "[]", '"text"', "1e999999", _nested(10_000), '{"mode": ' + _nested(10_000) + "}",
    _nested(100_000),
    json.dumps({"mode": ["improve"], "images": [{"name": "p"}], "pad": "x" * 2_000_000}),
])
def test_vk_refuses_broken_or_oversized_meta_in_its_envelope(client, partner, private_media, meta):
    before = stored(private_media)
    response = vk_post(client, partner, "photo/improve", None, {"p": image_bytes()}, raw_meta=meta)
    assert response.status_code == 400
    assert_vk(response, before, private_media)


@pytest.mark.parametrize("body", [b"", b"{", b"\xff\xfe", _nested(10_000).encode(),
                                  b'{"media_info_list": ' + _nested(50_000).encode() + b"}"])
def test_meitu_refuses_a_broken_body_in_its_envelope(client, partner, private_media, body):
    before = stored(private_media)
    response = client.post(
        f"/v1/aiquality?api_key={partner['meitu_api_key']}&api_secret={partner['meitu_api_secret']}",
        body, content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["ErrorCode"] == 10000
    assert stored(private_media) == before


@pytest.mark.parametrize("params", ["{", "[1]", '"x"', _nested(10_000), '{"factor": ' + _nested(10_000) + "}"])
def test_the_native_api_refuses_broken_params_as_a_problem(client, partner, private_media, params):
    response = client.post(
        "/api/jobs/", {"files": _upload("p.png", image_bytes()), "operation": "upscale", "params": params},
        headers={"Authorization": f"Token {partner['token']}"},
    )
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert stored(private_media) == (0, 0, 0, set())


BROKEN_MULTIPART = [
    ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=\"meta\"\r\n\r\n{}"),
    ("multipart/form-data; boundary=", b"garbage"),
    ("multipart/form-data; boundary=abc", b"--abc\r\nno headers here\r\n--abc--"),
    ("multipart/form-data; boundary=abc", b"--abc\r\nContent-Disposition: form-data; name=\"photo\"; "
                                          b"filename=\"p.jpg\"\r\n\r\n\xff\xd8\xff"),
    ("multipart/form-data; boundary=abc", b"\x00" * 1000),
]


@pytest.mark.parametrize(("content_type", "body"), BROKEN_MULTIPART)
def test_broken_multipart_gets_each_surfaces_error(client, alice, partner, private_media, content_type, body):
    before = stored(private_media)
    vk = client.generic("POST", f"/api/v1/photo/improve?oauth_token={partner['token']}&oauth_provider=mcs",
                        body, content_type)
    assert vk.status_code == 400
    assert_vk(vk, before, private_media)
    api = client.generic("POST", "/api/jobs/", body, content_type,
                         headers={"Authorization": f"Token {partner['token']}"})
    assert 400 <= api.status_code < 500 and api["Content-Type"] == "application/problem+json"
    baidu = client.generic(
        "POST", f"/rest/2.0/image-process/v1/dehaze?access_token={partner['baidu_access_token']}",
        body, content_type)
    assert_baidu(baidu, before, private_media)
    assert "error_code" in baidu.json()
    client.force_login(alice)
    web = client.generic("POST", "/upload/", body, content_type)
    assert web.status_code in (200, 400)
    assert stored(private_media) == before


# --------------------------------------------------------------------------- parameter fuzzing

IMAGE_FILES = st.dictionaries(st.sampled_from(["a", "b", "photo"]),
                              st.one_of(st.just(image_bytes(64, 48, "JPEG")), any_bytes), max_size=2)
IMAGE_ENTRY = st.fixed_dictionaries({}, optional={
    "name": maybe(st.sampled_from(["a", "b", "photo", ""])),
    "person_id": maybe(st.integers(-5, 2**40)),
})
VK_META = st.fixed_dictionaries({}, optional={
    "mode": maybe(st.lists(maybe(st.sampled_from(["improve", "resolution", "x"])), max_size=3)),
    "images": maybe(st.lists(maybe(IMAGE_ENTRY), max_size=3)),
    "rfactor": maybe(st.sampled_from([2, 4, 3, 0, -2, 2.0, "2"])),
    "ftype": maybe(st.sampled_from(["art", "photo", "", "ART"])),
    "rtype": maybe(st.sampled_from(["art", "photo", "x"])),
    "space": maybe(st.sampled_from([0, 1, 9, 10, -1, "0", "٣", "+1", 2**64, 1.5, True])),
    "create_new": maybe(st.booleans()),
})


@pytest.mark.parametrize("endpoint", ["photo/improve", "persons/set", "persons/recognize",
                                      "persons/delete", "persons/truncate"])
def test_vk_parameter_fuzzing_answers_in_the_vk_envelope(client, partner, private_media, endpoint):
    @FUZZ
    @given(meta=st.one_of(VK_META, json_values), files=IMAGE_FILES)
    def check(meta, files):
        before = stored(private_media)
        assert_vk(vk_post(client, partner, endpoint, meta, files), before, private_media)

    check()


BAIDU_METHODS = st.sampled_from(["image_quality_enhance", "dehaze", "contrast_enhance", "colourize",
                                 "nope", "DEHAZE"])
BASE64_IMAGES = st.one_of(
    any_bytes.map(lambda data: base64.b64encode(data).decode()),
    st.just(base64.b64encode(image_bytes(256, 256, "JPEG")).decode()),
    st.text(max_size=40),
)


def test_baidu_parameter_fuzzing_answers_in_the_baidu_envelope(client, partner, private_media):
    @FUZZ
    @given(method=BAIDU_METHODS, image=BASE64_IMAGES, token=st.sampled_from(["good", "", "24.bad"]),
           extra=st.dictionaries(st.sampled_from(["image_type", "url", "option"]), st.text(max_size=10)))
    def check(method, image, token, extra):
        before = stored(private_media)
        access_token = partner["baidu_access_token"] if token == "good" else token
        response = client.post(f"/rest/2.0/image-process/v1/{method}?access_token={access_token}",
                               {"image": image, **extra})
        assert_baidu(response, before, private_media)

    check()


MEITU_ITEM = st.fixed_dictionaries({}, optional={
    "media_data": maybe(BASE64_IMAGES),
    "media_profiles": maybe(st.fixed_dictionaries({}, optional={
        "media_data_type": maybe(st.sampled_from(["jpg", "png", "url", "gif"]))})),
})
MEITU_BODY = st.fixed_dictionaries({}, optional={
    "media_info_list": maybe(st.lists(maybe(MEITU_ITEM), max_size=3)),
    "parameter": maybe(st.fixed_dictionaries({}, optional={
        "rsp_media_type": maybe(st.sampled_from(["base64", "url", "jpg", "png"]))})),
})


def test_meitu_parameter_fuzzing_answers_in_the_meitu_envelope(client, partner, private_media):
    @FUZZ
    @given(body=st.one_of(MEITU_BODY.map(json.dumps), json_values.map(json.dumps),
                          st.binary(max_size=200)))
    def check(body):
        before = stored(private_media)
        response = client.post(
            f"/v1/aiquality?api_key={partner['meitu_api_key']}&api_secret={partner['meitu_api_secret']}",
            body, content_type="application/json",
        )
        assert_meitu(response, before, private_media)

    check()
