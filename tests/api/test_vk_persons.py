"""VK Cloud Vision /api/v1/persons/*: every example of the spec, on real faces."""

from __future__ import annotations

import pytest

from apps.face_registry.models import Person, Space
from tests.api.vk_helpers import SET, enroll, envelope, jpeg, recognize, vk_post

pytestmark = pytest.mark.django_db

DELETE, TRUNCATE = "/api/v1/persons/delete", "/api/v1/persons/truncate"
# The keys of the spec's person examples; "aliases" is the table's optional extra.
PERSON_KEYS = {"tag", "coord", "confidence", "awesomeness", "similarity", "frontality", "visibility"}


def test_the_set_example(client, secrets, face):
    response = enroll(client, secrets["token"], face("obama.jpg"))
    assert response.json() == envelope(200, {"objects": [{"status": 0, "name": "file"}]})
    space = Space.objects.get()
    assert (space.number, space.client.name) == (5, "alice-app")
    assert Person.objects.get().person_id == 1


def test_the_set_example_with_mismatched_names(client, secrets, face):
    meta = {"space": "5", "images": [{"name": "file_10", "person_id": 12}]}
    response = vk_post(client, SET, secrets["token"], meta, {"file": face("obama.jpg")})
    assert response.json() == envelope(400, "could not get image by name file_10: http: no such file")


@pytest.mark.parametrize("photo", ["no_face", "two_people.jpg"])
def test_the_set_examples_without_exactly_one_face(client, secrets, face, photo):
    data = jpeg(200, 160) if photo == "no_face" else face(photo)
    response = enroll(client, secrets["token"], data, person_id=12)
    assert response.json() == envelope(200, {"objects": [
        {"status": 1, "error": "face set required only one face per image", "name": "file"}]})
    assert not Person.objects.exists()


def test_the_set_example_with_an_empty_image(client, secrets):
    assert enroll(client, secrets["token"], b"", 12).json() == envelope(400, "empty image")


def test_the_recognize_example_finds_the_enrolled_person(client, secrets, face):
    enroll(client, secrets["token"], face("obama.jpg"), person_id=1)
    payload = recognize(client, secrets["token"], face("obama2.jpg"), False).json()
    assert (payload["status"], set(payload["body"])) == (200, {"objects", "aliases_changed"})
    assert payload["body"]["aliases_changed"] is False
    (item,) = payload["body"]["objects"]
    assert (item["status"], item["name"]) == (0, "file")
    (person,) = item["persons"]
    assert PERSON_KEYS <= set(person)
    assert person["tag"] == "person1" and len(person["coord"]) == 4
    assert 0.9 <= person["similarity"] <= 1


def test_the_recognize_example_with_create_new(client, secrets, face):
    enroll(client, secrets["token"], face("obama.jpg"), person_id=1)
    (item,) = recognize(client, secrets["token"], face("biden.jpg"), True).json()["body"]["objects"]
    (person,) = item["persons"]
    assert person["tag"] == "person2" and person["similarity"] == 1
    assert Person.objects.count() == 2


def test_the_recognize_example_of_an_unknown_face(client, secrets, face):
    (item,) = recognize(client, secrets["token"], face("biden.jpg"), False).json()["body"]["objects"]
    assert item["persons"][0]["tag"] == "undefined"
    assert not Person.objects.exists()


def test_the_recognize_example_without_a_face(client, secrets, face):
    response = recognize(client, secrets["token"], jpeg(200, 160), False)
    assert response.json() == envelope(
        200, {"objects": [{"status": 0, "name": "file"}], "aliases_changed": False})


def test_the_recognize_examples_with_bad_names_and_empty_images(client, secrets, face):
    response = recognize(client, secrets["token"], face("biden.jpg"), False, name="file1")
    assert response.json() == envelope(400, "could not get image by name file1: http: no such file")
    assert recognize(client, secrets["token"], b"", False).json() == envelope(400, "empty image")


def test_the_delete_example(client, secrets, face):
    enroll(client, secrets["token"], face("obama.jpg"), person_id=1)
    meta = {"space": "5", "images": [{"name": "aaa", "person_id": 1}]}
    response = vk_post(client, DELETE, secrets["token"], meta)
    assert response.json() == envelope(200, {"objects": [{"status": 0, "name": "aaa"}]})
    assert not Person.objects.exists()


def test_the_delete_example_with_a_file_attached(client, secrets, face):
    enroll(client, secrets["token"], face("obama.jpg"), person_id=1)
    meta = {"space": "5", "images": [{"name": "aaa", "person_id": 1}]}
    response = vk_post(client, DELETE, secrets["token"], meta, {"file": face("biden.jpg")})
    assert response.json() == envelope(400, "no person_id has been provided")
    assert Person.objects.count() == 1


def test_delete_without_person_id(client, secrets):
    meta = {"space": "5", "images": [{"name": "aaa"}]}
    response = vk_post(client, DELETE, secrets["token"], meta)
    assert response.json() == envelope(400, "no person_id has been provided")


def test_the_truncate_examples(client, secrets, face):
    enroll(client, secrets["token"], face("obama.jpg"), person_id=1)
    assert vk_post(client, TRUNCATE, secrets["token"], {"space": "5"}).json() == envelope(200, {})
    assert not Person.objects.exists()
    response = vk_post(client, TRUNCATE, secrets["token"], {"azaza": "5"})
    assert response.json() == envelope(
        400, 'wrong space param : strconv.Atoi: parsing "": invalid syntax')


def test_spaces_are_per_client_and_out_of_range_spaces_are_refused(client, secrets, bob_secrets, face):
    enroll(client, secrets["token"], face("obama.jpg"), person_id=1)
    (item,) = recognize(client, bob_secrets["token"], face("obama2.jpg"), False).json()["body"]["objects"]
    assert item["persons"][0]["tag"] == "undefined"  # bob's space 5 is not alice's
    response = vk_post(client, TRUNCATE, secrets["token"], {"space": "10"})
    assert response.json()["status"] == 400
    assert Person.objects.count() == 1
