"""The face-registry pages, through the Django test client."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.face_registry import services
from apps.face_registry.models import Face, Person, Space

from .conftest import needs_face_models

pytestmark = [pytest.mark.django_db]


def _upload(face_photo, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, face_photo(name), content_type="image/jpeg")


def test_alice_creates_and_renames_a_space(alice_client, alice):
    response = alice_client.post(reverse("face_registry:spaces"), {"name": "Family"})
    space = Space.objects.get(owner=alice)
    assert response.status_code == 302 and response["Location"] == reverse(
        "face_registry:space", args=[space.uuid]
    )
    assert (space.number, space.name, space.client) == (0, "Family", None)
    alice_client.post(reverse("face_registry:space", args=[space.uuid]), {"name": "Friends"})
    page = alice_client.get(reverse("face_registry:spaces"))
    assert "Friends" in page.content.decode()
    assert 'href="/faces/"' in page.content.decode()  # the nav link


def test_the_space_list_refuses_an_eleventh_space(alice_client, alice):
    for number in range(10):
        services.get_space(alice, number)
    response = alice_client.post(reverse("face_registry:spaces"), {"name": "one more"})
    assert response.status_code == 200
    assert Space.objects.filter(owner=alice).count() == 10
    assert "the most allowed" in response.content.decode()


def _person_with_faces(space, person_id: int, faces: int) -> Person:
    import numpy as np
    from django.core.files.base import ContentFile

    person = Person.objects.create(space=space, person_id=person_id)
    for _ in range(faces):
        face = Face(space=space, person=person, embedding=np.ones(128, "<f4").tobytes(),
                    left=0, top=0, right=10, bottom=10)
        face.thumbnail.save("f.jpg", ContentFile(b"x"), save=False)
        face.save()
    return person


def test_list_pages_take_a_fixed_number_of_queries(
    alice_client, alice, private_media, django_assert_max_num_queries
):
    space = services.get_space(alice, 0)
    _person_with_faces(space, 1, 1)
    with django_assert_max_num_queries(8) as few:
        alice_client.get(reverse("face_registry:space", args=[space.uuid]))
    for person_id in range(2, 12):
        _person_with_faces(space, person_id, 3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = alice_client.get(reverse("face_registry:space", args=[space.uuid]))
    assert response.content.decode().count("/thumbnail/") == 1 + 10 * 3
    with django_assert_max_num_queries(6):
        alice_client.get(reverse("face_registry:spaces"))


@pytest.mark.slow
@needs_face_models
def test_enroll_recognize_and_delete_through_the_pages(
    alice_client, alice, face_photo, private_media, django_capture_on_commit_callbacks
):
    space = services.get_space(alice, 0)
    response = alice_client.post(
        reverse("face_registry:space_enroll", args=[space.uuid]),
        {"person_id": "", "name": "Barack",
         "photos": [_upload(face_photo, "obama.jpg"), _upload(face_photo, "two_people.jpg")]},
        follow=True,
    )
    person = Person.objects.get(space=space)
    assert (person.person_id, person.name, person.faces.count()) == (1, "Barack", 1)
    text = response.content.decode()
    assert "two_people.jpg: several faces found" in text and "1 face added to Barack." in text

    alice_client.post(
        reverse("face_registry:person_enroll", args=[person.uuid]),
        {"photos": [_upload(face_photo, "obama_partial_face.jpg")]},
    )
    assert person.faces.count() == 2

    response = alice_client.post(
        reverse("face_registry:recognize", args=[space.uuid]),
        {"photo": _upload(face_photo, "two_people.jpg")},
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert text.count('class="face-box"') == 2
    assert 'data-tag="person1"' in text and 'data-tag="undefined"' in text
    assert "Barack" in text and "data:image/jpeg;base64," in text
    assert "<svg viewBox=\"0 0 1126 661\"" in text

    face = person.faces.first()
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(reverse("face_registry:face_delete", args=[face.uuid]))
    assert not Face.objects.filter(pk=face.pk).exists()
    assert not (private_media / face.thumbnail.name).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(reverse("face_registry:person_delete", args=[person.uuid]))
    assert response["Location"] == reverse("face_registry:space", args=[space.uuid])
    assert not Person.objects.filter(space=space).exists()
    assert not [p for p in private_media.rglob("*") if p.is_file()]


@pytest.mark.slow
@needs_face_models
def test_recognize_with_create_new_adds_a_person(alice_client, alice, face_photo, private_media):
    space = services.get_space(alice, 0)
    response = alice_client.post(
        reverse("face_registry:recognize", args=[space.uuid]),
        {"photo": _upload(face_photo, "biden.jpg"), "create_new": "on"},
    )
    assert 'data-tag="person1"' in response.content.decode()
    assert Person.objects.get(space=space).faces.count() == 1


def test_recognize_shows_the_error_for_an_unreadable_file(alice_client, alice):
    space = services.get_space(alice, 0)
    response = alice_client.post(
        reverse("face_registry:recognize", args=[space.uuid]),
        {"photo": SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")},
    )
    assert response.status_code == 200
    assert "not an image we can read" in response.content.decode()


def test_truncate_asks_first_then_empties(
    alice_client, alice, private_media, django_capture_on_commit_callbacks
):
    space = services.get_space(alice, 0)
    _person_with_faces(space, 1, 2)
    url = reverse("face_registry:truncate", args=[space.uuid])
    page = alice_client.get(url)
    assert "all persons (1) and faces (2)" in page.content.decode()
    assert Face.objects.filter(space=space).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        alice_client.post(url)
    assert not Person.objects.filter(space=space).exists()
    assert not [p for p in private_media.rglob("*") if p.is_file()]


def test_the_admin_lists_spaces_persons_and_faces(client, alice, private_media):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    client.force_login(alice)
    space = services.get_space(alice, 0)
    person = _person_with_faces(space, 1, 1)
    for name in ("space", "person", "face"):
        response = client.get(reverse(f"admin:face_registry_{name}_changelist"))
        assert response.status_code == 200, name
    assert client.get(reverse("admin:face_registry_person_change", args=[person.pk])).status_code == 200
    response = client.get(reverse("admin:face_registry_face_changelist"), {"q": "nothing"})
    assert response.status_code == 200
