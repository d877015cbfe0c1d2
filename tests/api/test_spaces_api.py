"""The native /api/spaces/ face registry: enroll, recognize, persons, faces, delete, truncate."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.face_registry.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def face(fixture_path):
    from apps.imaging import faces

    reason = faces.available()
    if reason:
        pytest.skip(f"face analysis unavailable: {reason}")
    return lambda name: SimpleUploadedFile(name, fixture_path(f"faces/{name}").read_bytes(), "image/jpeg")


def auth(secrets) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {secrets['token']}"}


def test_enroll_recognize_list_and_delete(client, secrets, face):
    response = client.post("/api/spaces/3/enroll/", {"file": face("obama.jpg"), "person_id": 7}, **auth(secrets))
    assert response.status_code == 201 and response.json()["person_id"] == 7
    found = client.post("/api/spaces/3/recognize/", {"file": face("obama2.jpg")}, **auth(secrets)).json()
    assert [person["tag"] for person in found["persons"]] == ["person7"]
    (person,) = found["persons"]
    assert (person["person_id"], person["new"], found["aliases_changed"]) == (7, False, False)
    assert person["similarity"] >= 0.9 and len(person["coord"]) == 4
    stranger = client.post("/api/spaces/3/recognize/", {"file": face("biden.jpg")}, **auth(secrets)).json()
    # The native API says "nobody" plainly: no person, no similarity (VK's answer says 1).
    assert [(p["tag"], p["person_id"], p["similarity"]) for p in stranger["persons"]] == [
        ("undefined", None, None)
    ]
    persons = client.get("/api/spaces/3/persons/", **auth(secrets)).json()
    assert [(p["person_id"], p["faces"]) for p in persons] == [(7, 1)]
    assert len(client.get("/api/spaces/3/persons/7/faces/", **auth(secrets)).json()) == 1
    assert client.delete("/api/spaces/3/persons/7/", **auth(secrets)).status_code == 204
    assert client.delete("/api/spaces/3/persons/7/", **auth(secrets)).status_code == 404
    assert not Person.objects.exists()


def test_enrolling_two_faces_is_a_problem(client, secrets, face):
    response = client.post("/api/spaces/3/enroll/", {"file": face("two_people.jpg"), "person_id": 1},
                           **auth(secrets))
    assert (response.status_code, response.json()["code"]) == (422, "too_many_faces")
    assert response["Content-Type"] == "application/problem+json"


def test_bad_input_is_a_problem(client, secrets):
    bad = SimpleUploadedFile("x.jpg", b"garbage", "image/jpeg")
    response = client.post("/api/spaces/3/enroll/", {"file": bad, "person_id": 1}, **auth(secrets))
    assert (response.status_code, response.json()["code"]) == (400, "not_an_image")
    assert client.post("/api/spaces/3/enroll/", {"person_id": 1}, **auth(secrets)).status_code == 400
    assert client.get("/api/spaces/12/persons/", **auth(secrets)).status_code == 404
    assert client.get("/api/spaces/x/persons/", **auth(secrets)).status_code == 404
    assert client.get("/api/spaces/¹/persons/", **auth(secrets)).status_code == 404


def test_an_outsider_sees_nothing_of_anothers_space(client, secrets, bob_secrets, face):
    client.post("/api/spaces/3/enroll/", {"file": face("obama.jpg"), "person_id": 7}, **auth(secrets))
    assert client.get("/api/spaces/3/persons/", **auth(bob_secrets)).json() == []
    assert client.get("/api/spaces/3/persons/7/faces/", **auth(bob_secrets)).status_code == 404
    assert client.delete("/api/spaces/3/persons/7/", **auth(bob_secrets)).status_code == 404
    client.post("/api/spaces/3/truncate/", **auth(bob_secrets))
    assert Person.objects.count() == 1


def test_truncate_empties_the_space(client, secrets, face):
    client.post("/api/spaces/3/enroll/", {"file": face("obama.jpg"), "person_id": 7}, **auth(secrets))
    assert client.post("/api/spaces/3/truncate/", **auth(secrets)).status_code == 204
    assert not Person.objects.exists()


def test_anonymous_callers_are_refused(client):
    assert client.get("/api/spaces/3/persons/").status_code in (401, 403)


def test_the_schema_documents_recognition_results(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    persons = components["Recognized"]["properties"]["persons"]
    assert persons["items"] == {"$ref": "#/components/schemas/RecognizedPerson"}
    person = components["RecognizedPerson"]["properties"]
    assert {"person_id", "tag", "coord", "aliases", "new", "similarity", "sex", "age",
            "emotion", "frontality", "visibility"} <= set(person)
    assert person["person_id"]["nullable"] and person["similarity"]["nullable"]
