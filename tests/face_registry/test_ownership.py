"""One owner never sees, matches or changes another's faces — nor does a partner's client."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.accounts.models import ApiClient
from apps.face_registry import services
from apps.face_registry.models import Face, Person, Space

from .conftest import needs_face_models

pytestmark = [pytest.mark.django_db]


def test_spaces_are_per_owner_and_per_client(alice, bob):
    client, _ = ApiClient.issue(alice, "partner")
    alices = services.get_space(alice, 0)
    assert services.get_space(alice, 0) == alices
    assert services.get_space(bob, 0) != alices
    partner = services.get_space(alice, 0, client=client)
    assert partner not in (alices, services.get_space(bob, 0))
    assert partner.owner == alice and partner.client == client
    assert services.get_space(alice, 0, client=client) == partner
    assert Space.objects.count() == 3


def test_a_space_is_numbered_0_to_9(alice):
    from apps.imaging.errors import EnhancerError

    for bad in (-1, 10, "3", None):
        with pytest.raises(EnhancerError):
            services.get_space(alice, bad)
    with pytest.raises(Space.DoesNotExist):
        services.get_space(alice, 9, create=False)


def test_an_owner_has_at_most_ten_web_spaces(alice):
    from apps.imaging.errors import EnhancerError

    numbers = [services.create_space(alice, f"s{i}").number for i in range(10)]
    assert numbers == list(range(10))
    with pytest.raises(EnhancerError):
        services.create_space(alice, "eleventh")


def test_a_client_cannot_use_another_owners_space(alice, bob):
    client, _ = ApiClient.issue(alice, "partner")
    with pytest.raises(ValueError):
        services.get_space(bob, 0, client=client)


@pytest.mark.slow
@needs_face_models
def test_a_face_enrolled_by_alice_is_unknown_to_bob_and_to_her_client(
    alice, bob, face_photo, private_media
):
    client, _ = ApiClient.issue(alice, "partner")
    services.set_face(services.get_space(alice, 0), 1, face_photo("obama.jpg"), "obama.jpg")
    for space in (services.get_space(bob, 0), services.get_space(alice, 0, client=client),
                  services.get_space(alice, 1)):
        result = services.recognize(space, face_photo("obama2.jpg"), "obama2.jpg", False)
        assert [face.tag for face in result.faces] == ["undefined"]


@pytest.fixture
def alices_face(alice, private_media, tmp_path):
    """A person with one face, written directly (no model needed to test access rules)."""
    import numpy as np
    from django.core.files.base import ContentFile

    space = services.get_space(alice, 0)
    person = Person.objects.create(space=space, person_id=1, name="Barack")
    face = Face(space=space, person=person, embedding=np.ones(128, "<f4").tobytes(),
                left=1, top=2, right=30, bottom=40, image_name="x.jpg")
    face.thumbnail.save("face.jpg", ContentFile(b"\xff\xd8 not really a jpeg"), save=False)
    face.save()
    return face


def _urls(face: Face) -> list[tuple[str, str]]:
    space, person = face.space, face.person
    return [
        ("get", reverse("face_registry:space", args=[space.uuid])),
        ("get", reverse("face_registry:recognize", args=[space.uuid])),
        ("get", reverse("face_registry:truncate", args=[space.uuid])),
        ("post", reverse("face_registry:truncate", args=[space.uuid])),
        ("post", reverse("face_registry:space_enroll", args=[space.uuid])),
        ("get", reverse("face_registry:person", args=[person.uuid])),
        ("post", reverse("face_registry:person", args=[person.uuid])),
        ("post", reverse("face_registry:person_enroll", args=[person.uuid])),
        ("post", reverse("face_registry:person_delete", args=[person.uuid])),
        ("post", reverse("face_registry:face_delete", args=[face.uuid])),
        ("get", reverse("face_registry:face_thumbnail", args=[face.uuid])),
    ]


def test_bob_gets_404_on_every_url_of_alices_registry(client, bob, alices_face):
    client.force_login(bob)
    for method, url in _urls(alices_face):
        response = getattr(client, method)(url, {"name": "mine now"} if method == "post" else None)
        assert response.status_code == 404, (method, url)
    assert Face.objects.filter(pk=alices_face.pk).exists()
    assert Person.objects.get(space=alices_face.space).name == "Barack"
    assert alices_face.space.name == Space.objects.get(pk=alices_face.space.pk).name == ""


def test_an_anonymous_visitor_is_sent_to_log_in(client, alices_face):
    for method, url in _urls(alices_face):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/accounts/" in response["Location"], url


def test_alice_sees_her_own_thumbnail(alice_client, alices_face):
    response = alice_client.get(reverse("face_registry:face_thumbnail", args=[alices_face.uuid]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"].startswith("private")


def test_the_admin_thumbnail_is_for_staff_only(client, alice, bob, alices_face):
    url = reverse("face_registry:admin_face_thumbnail", args=[alices_face.uuid])
    client.force_login(bob)
    assert client.get(url).status_code == 302
    bob.is_staff = True
    bob.save()
    # Staff status opens the admin, not every user's faces: that takes the view permission.
    assert client.get(url).status_code == 403
    from django.contrib.auth.models import Permission

    bob.user_permissions.add(Permission.objects.get(codename="view_face"))
    assert client.get(url).status_code == 200
