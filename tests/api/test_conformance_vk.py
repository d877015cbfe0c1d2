"""VK Cloud Vision against its documents (../shared/specs/vk-photo-improve.md, vk-persons.md),
field by field: what the example tests in test_vk_photo_improve.py and test_vk_persons.py leave
open — field types, JPEG pictures, partial results, ``aliases_changed``, ``person_id`` ranges and
the optional emotion fields. Where a document contradicts itself, the test says which side we
follow and why.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from apps.api.compat import vk
from apps.face_registry.models import Person
from apps.imaging import operations
from apps.uploads.models import Job
from tests.api.vk_helpers import SET, enroll, envelope, jpeg, recognize, vk_post
from tests.helpers import image_bytes

IMPROVE = "/api/v1/photo/improve"
DELETE = "/api/v1/persons/delete"
NO_COLORIZER = "no colorizer model installed (see README: manage.py install_model)"


def jpeg_picture(encoded: str) -> Image.Image:
    """A field documented as "Jpeg picture ... (base64)": plain base64 of a JPEG file."""
    raw = base64.b64decode(encoded, validate=True)
    assert raw[:3] == b"\xff\xd8\xff", "not a JPEG"
    picture = Image.open(io.BytesIO(raw))
    assert picture.format == "JPEG"
    return picture


def transparent_png(width: int = 96, height: int = 64) -> bytes:
    """Red on the left half; the right half fully transparent."""
    pixels = np.zeros((height, width, 4), np.uint8)
    pixels[:, :, 0] = 200
    pixels[:, : width // 2, 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, "PNG")
    return buffer.getvalue()


def improve(client, secrets, data: bytes, name: str = "file"):
    meta = {"mode": ["improve"], "images": [{"name": name}]}
    return vk_post(client, IMPROVE, secrets["token"], meta, {name: data})


@pytest.fixture
def engine_improve(monkeypatch, stand_ins):
    """The engine's own ``improve`` (B/W detection, the colorize decision) over the stand-in
    restore and colorize, so only the decision under test is real."""
    from apps.imaging import colorize
    from apps.imaging import improve as engine

    monkeypatch.setitem(
        operations.REGISTRY, "improve",
        operations.Operation("improve", "Improve", engine.run,
                             unavailable_reason=engine.unavailable_reason,
                             outputs=("improved", "colorized_improved", "colored")),
    )
    # The engine asks the colorize module itself (not the registry) whether it can colour.
    monkeypatch.setattr(colorize, "unavailable_reason", lambda: NO_COLORIZER)
    monkeypatch.setattr(colorize, "colorize", lambda picture, progress: picture)


# --- photo/improve -------------------------------------------------------------------------


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
class TestImproveObjectFields:
    def test_every_improve_field_has_its_documented_type(self, client, secrets):
        payload = improve(client, secrets, jpeg()).json()
        assert payload == {**envelope(200, payload["body"])}
        assert set(payload["body"]) == {"improve"}
        (item,) = payload["body"]["improve"]
        # The table names the plain colour picture "colored"; the response example calls it
        # "colorized". A client parses what the example shows, so we answer "colorized".
        assert set(item) == {"status", "name", "improved", "colorized_improved", "colorized", "bw"}
        assert type(item["status"]) is int and item["status"] == 0
        assert item["name"] == "file"
        assert type(item["bw"]) is bool
        for field in ("improved", "colorized_improved", "colorized"):
            assert jpeg_picture(item[field]).size == (96, 64)

    def test_a_png_photo_is_answered_with_jpeg_pictures_flattened_onto_white(self, client, secrets):
        (item,) = improve(client, secrets, transparent_png()).json()["body"]["improve"]
        for field in ("improved", "colorized_improved", "colorized"):
            picture = jpeg_picture(item[field]).convert("RGB")
            assert picture.size == (96, 64)
            red, green, blue = picture.getpixel((10, 30))
            assert red > 180 and green < 30 and blue < 30  # the opaque half keeps its colour
            assert min(picture.getpixel((85, 30))) >= 250  # the transparent half is white

    def test_the_resolution_picture_is_a_jpeg_for_a_png_photo(self, client, secrets):
        meta = {"mode": ["resolution"], "rfactor": 2, "ftype": "art", "images": [{"name": "file"}]}
        payload = vk_post(client, IMPROVE, secrets["token"], meta, {"file": transparent_png()}).json()
        (item,) = payload["body"]["resolution"]
        assert set(item) == {"status", "name", "resolved"}
        assert jpeg_picture(item["resolved"]).size == (192, 128)
        assert Job.objects.get().outputs.get().format == "PNG"  # history keeps the lossless one

    def test_a_16_bit_png_photo_is_answered_as_an_8_bit_jpeg(self, client, secrets):
        import cv2

        ramp = (np.linspace(0, 65535, 96, dtype=np.float64)[None, :, None] * np.ones((64, 1, 3)))
        ok, png16 = cv2.imencode(".png", ramp.astype(np.uint16))
        assert ok
        (item,) = improve(client, secrets, png16.tobytes()).json()["body"]["improve"]
        picture = jpeg_picture(item["improved"]).convert("L")
        assert picture.getpixel((0, 10)) < 8 and picture.getpixel((95, 10)) > 247


@pytest.mark.usefixtures("inline_jobs", "engine_improve")
class TestBlackAndWhiteWithoutAColorizer:
    def test_the_object_says_why_the_colour_is_missing(self, client, secrets):
        grey = image_bytes(96, 64, "JPEG", mode="L")
        (item,) = improve(client, secrets, grey).json()["body"]["improve"]
        # Not plain success: status 1 (permanent, until an admin installs a colorizer) with the
        # reason in "error", and the restored picture that was made still comes back.
        assert set(item) == {"status", "error", "name", "improved", "bw"}
        assert (item["status"], item["name"], item["bw"]) == (1, "file", True)
        assert item["error"] == (
            f"black-and-white photo not colorized: colorize unavailable: {NO_COLORIZER}")
        jpeg_picture(item["improved"])

    def test_our_api_reports_the_same_missing_part_on_the_job(self, client, secrets):
        improve(client, secrets, image_bytes(96, 64, "JPEG", mode="L"))
        job = Job.objects.get()
        detail = client.get(f"/api/jobs/{job.uuid}/",
                            HTTP_AUTHORIZATION=f"Token {secrets['token']}").json()
        assert detail["status"] == "succeeded"
        assert detail["missing"] == [{
            "code": "colorize_unavailable",
            "outputs": ["colorized_improved", "colored"],
            "message": f"black-and-white photo not colorized: colorize unavailable: {NO_COLORIZER}",
        }]
        assert [output["kind"] for output in detail["outputs"]] == ["improved"]

    def test_a_colour_photo_needs_no_colorizer_and_is_plain_success(self, client, secrets):
        (item,) = improve(client, secrets, jpeg()).json()["body"]["improve"]
        assert set(item) == {"status", "name", "improved", "bw"}
        assert (item["status"], item["bw"]) == (0, False)
        detail = client.get(f"/api/jobs/{Job.objects.get().uuid}/",
                            HTTP_AUTHORIZATION=f"Token {secrets['token']}").json()
        assert detail["missing"] == []


# --- persons/* ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_aliases_changed_is_answered_beside_objects_not_per_person(client, secrets, face):
    token = secrets["token"]
    enroll(client, token, face("obama.jpg"), 1)
    created = recognize(client, token, face("biden.jpg"), True).json()
    # The response table lists aliases_changed (bool) beside objects; no example shows a
    # per-person flag, so there is none.
    assert set(created["body"]) == {"objects", "aliases_changed"}
    assert created["body"]["aliases_changed"] is True
    (person,) = created["body"]["objects"][0]["persons"]
    assert person["tag"] == "person2" and "aliases_changed" not in person
    again = recognize(client, token, face("biden.jpg"), True).json()
    assert again["body"]["aliases_changed"] is False


@pytest.mark.django_db
def test_every_person_field_has_its_documented_type(client, secrets, face):
    from apps.imaging import faces as engine

    enroll(client, secrets["token"], face("obama.jpg"), 1)
    (item,) = recognize(client, secrets["token"], face("obama2.jpg"), False).json()["body"]["objects"]
    assert set(item) == {"status", "name", "persons"}
    (person,) = item["persons"]
    # Exactly the fields this install measures (README, "/healthz" faces.person_fields).
    assert list(person) == vk.person_fields()
    assert type(person["tag"]) is str and person["tag"] == "person1"
    # The table calls the box "coordinate"; every example says "coord": we follow the examples.
    assert "coordinate" not in person
    assert len(person["coord"]) == 4 and all(type(v) is int for v in person["coord"])
    left, top, right, bottom = person["coord"]  # [left x, top y, right x, bottom y]
    assert left < right and top < bottom
    assert person["aliases"] == [] or all(type(a) is str for a in person["aliases"])
    for key in ("confidence", "similarity", "awesomeness", "frontality", "visibility"):
        assert isinstance(person[key], (int, float)) and 0 <= person[key] <= 1, key
    if engine.sex_age_unavailable_reason() is None:
        assert person["sex"] in ("female", "male")
        # The table types age as float; its examples show whole years (34): we answer those.
        assert isinstance(person["age"], (int, float)) and person["age"] > 0
    if engine.emotion_unavailable_reason() is None:
        assert person["emotion"] in ("Neutral", "Happiness", "Sadness", "Surprise", "Fear",
                                     "Disgust", "Anger", "Contempt")
        assert -1 <= person["valence"] <= 1 and -1 <= person["arousal"] <= 1
    else:
        # The optional model is absent: its fields are left out, never sent as null or guessed.
        assert not {"emotion", "valence", "arousal"} & set(person)


@pytest.mark.django_db
@pytest.mark.parametrize("path", [SET, DELETE])
@pytest.mark.parametrize("person_id", [-3, 2**31, 2**40])
def test_person_ids_outside_the_int_range_get_one_request_level_answer(
    client, secrets, path, person_id
):
    meta = {"space": "5", "images": [{"name": "file", "person_id": person_id}]}
    files = {"file": jpeg(200, 160)} if path == SET else None
    response = vk_post(client, path, secrets["token"], meta, files)
    assert response.status_code == 400
    assert response.json() == envelope(400, "person_id must be from 0 to 2147483647")
    assert not Person.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("person_id", ["1", 1.5, None, True, [1]])
def test_a_person_id_that_is_not_an_integer_gets_vks_own_text(client, secrets, person_id):
    meta = {"space": "5", "images": [{"name": "aaa", "person_id": person_id}]}
    response = vk_post(client, DELETE, secrets["token"], meta)
    assert response.json() == envelope(400, "no person_id has been provided")


@pytest.mark.django_db
@pytest.mark.parametrize("person_id", [0, 2**31 - 1])
def test_the_ends_of_the_range_are_accepted(client, secrets, person_id):
    meta = {"space": "5", "images": [{"name": "aaa", "person_id": person_id}]}
    response = vk_post(client, DELETE, secrets["token"], meta)
    assert response.json() == envelope(200, {"objects": [{"status": 0, "name": "aaa"}]})


@pytest.mark.django_db
def test_the_largest_person_id_can_be_set(client, secrets, face):
    response = enroll(client, secrets["token"], face("obama.jpg"), 2**31 - 1)
    assert response.json() == envelope(200, {"objects": [{"status": 0, "name": "file"}]})
    assert Person.objects.get().person_id == 2**31 - 1
