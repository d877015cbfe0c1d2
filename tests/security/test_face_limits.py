"""Face recognition is bounded per call and paid for: a crowd photo is refused before its faces
are analysed, and each person ``create_new`` makes counts against the client's quota."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from apps.accounts.models import ApiClient
from apps.face_registry.models import Person
from tests.api.vk_helpers import RECOGNIZE, recognize, vk_post
from tests.security.test_job_quotas import used

pytestmark = pytest.mark.django_db


def side_by_side(data: bytes, copies: int) -> bytes:
    """``copies`` of a photo in one row: a photo with ``copies`` times its faces."""
    photo = Image.open(io.BytesIO(data)).convert("RGB")
    row = Image.new("RGB", (photo.width * copies, photo.height))
    for index in range(copies):
        row.paste(photo, (index * photo.width, 0))
    buffer = io.BytesIO()
    row.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def test_a_photo_with_more_faces_than_allowed_is_refused_in_vks_format(client, secrets, face,
                                                                       settings):
    settings.ENHANCER_MAX_FACES_PER_RECOGNIZE = 3
    crowd = side_by_side(face("two_people.jpg"), 2)  # four faces (BlazeFace's tiles see six)
    response = recognize(client, secrets["token"], crowd, create_new=True)
    assert response.status_code == 200
    body = response.json()["body"]
    (refused,) = body["objects"]
    found = re.fullmatch(r"Too many faces in this photo \((\d+)\); at most 3 per photo\.", refused.pop("error"))
    assert found and int(found[1]) >= 4
    assert (refused, body["aliases_changed"]) == ({"status": 1, "name": "file"}, False)
    assert not Person.objects.exists()


def test_the_native_api_refuses_a_crowd_as_a_problem(client, secrets, face, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.ENHANCER_MAX_FACES_PER_RECOGNIZE = 1
    upload = SimpleUploadedFile("two.jpg", face("two_people.jpg"), "image/jpeg")
    response = client.post("/api/spaces/0/recognize/", {"file": upload, "create_new": "true"},
                           HTTP_AUTHORIZATION=f"Token {secrets['token']}")
    assert (response.status_code, response.json()["code"]) == (422, "too_many_faces")
    assert not Person.objects.exists()


def test_each_person_create_new_makes_counts_against_the_quota(client, issued, face):
    api_client, secrets = issued
    ApiClient.objects.filter(id=api_client.id).update(daily_quota=2)
    two = face("two_people.jpg")
    response = recognize(client, secrets["token"], two, create_new=True)  # 1 photo + 2 persons
    objects = response.json()["body"]["objects"]
    assert objects[0]["status"] != 0 and "daily quota" in objects[0]["error"]
    assert not Person.objects.exists() and used(api_client) == 0
    ApiClient.objects.filter(id=api_client.id).update(daily_quota=3)
    response = recognize(client, secrets["token"], two, create_new=True)
    assert [person["tag"] for person in response.json()["body"]["objects"][0]["persons"]] == [
        "person1", "person2"]
    assert used(api_client) == 3
    # The day is spent: the next call is refused before its photo is read.
    response = recognize(client, secrets["token"], two, create_new=False)
    assert response.json()["status"] == 429 and Person.objects.count() == 2


def test_a_refused_photo_costs_no_unit(client, issued):
    api_client, secrets = issued
    ApiClient.objects.filter(id=api_client.id).update(daily_quota=1)
    meta = {"space": "5", "create_new": True, "images": [{"name": "file"}]}
    for _ in range(2):
        response = vk_post(client, RECOGNIZE, secrets["token"], meta, {"file": b"not a photo"})
        assert response.json()["status"] == 400
    assert used(api_client) == 0
