"""set / recognize / delete on the shared face photos, through the service functions."""

from __future__ import annotations

import pytest

from apps.api.compat import vk
from apps.face_registry import services
from apps.face_registry.models import Face, Person
from apps.imaging.errors import EnhancerError

from .conftest import needs_face_models

pytestmark = [pytest.mark.django_db, pytest.mark.slow, needs_face_models]


@pytest.fixture
def space(alice, private_media):
    return services.get_space(alice, 0)


def test_an_enrolled_person_is_recognised_in_another_photo(space, face_photo):
    services.set_face(space, 1, face_photo("obama.jpg"), "obama.jpg")
    result = services.recognize(space, face_photo("obama2.jpg"), "obama2.jpg", create_new=False)
    assert [face.tag for face in result.faces] == ["person1"]
    assert result.faces[0].similarity >= services.MATCH_SIMILARITY
    person = vk.person_object(result.faces[0])
    assert person["similarity"] >= services.MATCH_SIMILARITY
    # VK documents aliases_changed once per response, not per person.
    assert person["aliases"] == [] and "aliases_changed" not in person
    assert result.persons_created is False
    left, top, right, bottom = person["coord"]
    assert 0 <= left < right <= result.width and 0 <= top < bottom <= result.height
    for key in ("confidence", "awesomeness", "frontality", "visibility"):
        assert 0.0 <= person[key] <= 1.0
    assert person["sex"] in ("male", "female") and person["age"] > 0


def test_a_stranger_is_undefined_without_create_new(space, face_photo):
    services.set_face(space, 1, face_photo("obama.jpg"), "obama.jpg")
    result = services.recognize(space, face_photo("biden.jpg"), "biden.jpg", create_new=False)
    assert [face.tag for face in result.faces] == ["undefined"]
    assert result.faces[0].person_id is None and result.faces[0].similarity is None
    assert vk.person_object(result.faces[0])["similarity"] == 1.0  # as in VK's own example
    assert Person.objects.filter(space=space).count() == 1


def test_a_stranger_becomes_the_next_person_with_create_new(space, face_photo):
    services.set_face(space, 1, face_photo("obama.jpg"), "obama.jpg")
    first = services.recognize(space, face_photo("biden.jpg"), "biden.jpg", create_new=True)
    assert [face.tag for face in first.faces] == ["person2"]
    assert first.persons_created and first.faces[0].created
    assert first.faces[0].similarity == 1.0
    assert vk.person_object(first.faces[0])["similarity"] == 1.0
    assert Face.objects.filter(person__person_id=2, space=space).count() == 1
    again = services.recognize(space, face_photo("biden.jpg"), "biden.jpg", create_new=True)
    assert [face.tag for face in again.faces] == ["person2"]
    assert not again.persons_created
    assert Person.objects.filter(space=space).count() == 2


def test_set_refuses_a_photo_of_two_people(space, face_photo):
    with pytest.raises(EnhancerError) as caught:
        services.set_face(space, 1, face_photo("two_people.jpg"), "two.jpg")
    assert caught.value.code == EnhancerError.TOO_MANY_FACES
    assert caught.value.message == "A photo must show exactly one face."
    assert not Person.objects.filter(space=space).exists()


def test_recognize_finds_both_people_in_a_group_photo(space, face_photo):
    services.set_face(space, 1, face_photo("obama.jpg"), "obama.jpg")
    services.set_face(space, 2, face_photo("biden.jpg"), "biden.jpg")
    result = services.recognize(space, face_photo("two_people.jpg"), "two.jpg", create_new=False)
    assert sorted(face.tag for face in result.faces) == ["person1", "person2"]


def test_a_partial_face_is_partly_visible_and_still_matches(space, face_photo):
    services.set_face(space, 7, face_photo("obama.jpg"), "obama.jpg")
    result = services.recognize(
        space, face_photo("obama_partial_face.jpg"), "partial.jpg", create_new=False
    )
    assert [face.tag for face in result.faces] == ["person7"]
    assert result.faces[0].visibility < 1.0


def test_a_second_face_of_a_person_is_added_to_it(space, face_photo):
    services.set_face(space, 1, face_photo("obama.jpg"), "obama.jpg")
    services.set_face(space, 1, face_photo("obama2.jpg"), "obama2.jpg")
    assert Person.objects.get(space=space, person_id=1).faces.count() == 2


def test_a_deleted_person_is_no_longer_recognised(space, face_photo):
    services.set_face(space, 1, face_photo("obama.jpg"), "obama.jpg")
    assert services.recognize(space, face_photo("obama2.jpg"), "o", False).faces[0].tag == "person1"
    assert services.delete_person(space, 1) is True
    assert services.recognize(space, face_photo("obama2.jpg"), "o", False).faces[0].tag == "undefined"
    assert services.delete_person(space, 1) is False


def test_truncate_empties_the_space(space, face_photo):
    services.set_face(space, 1, face_photo("obama.jpg"), "obama.jpg")
    services.set_face(space, 2, face_photo("biden.jpg"), "biden.jpg")
    services.truncate(space)
    assert not Person.objects.filter(space=space).exists()
    assert not Face.objects.filter(space=space).exists()
    assert services.recognize(space, face_photo("obama2.jpg"), "o", False).faces[0].tag == "undefined"


def test_deleting_removes_the_thumbnail_files(
    space, face_photo, private_media, django_capture_on_commit_callbacks
):
    face = services.set_face(space, 1, face_photo("obama.jpg"), "obama.jpg")
    other = services.set_face(space, 2, face_photo("biden.jpg"), "biden.jpg")
    third = services.set_face(space, 2, face_photo("obama2.jpg"), "obama2.jpg")
    paths = [private_media / row.thumbnail.name for row in (face, other, third)]
    assert all(path.is_file() for path in paths)
    with pytest.raises(EnhancerError):  # a refused set leaves no file behind
        services.set_face(space, 3, face_photo("two_people.jpg"), "two.jpg")
    files_before = sorted(p for p in private_media.rglob("*") if p.is_file())
    assert files_before == sorted(paths)

    # Files go once the deletion has committed.
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_face(third)
    assert not paths[2].exists() and paths[0].exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_person(space, 1)
    assert not paths[0].exists() and paths[1].exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.truncate(space)
    assert not [p for p in private_media.rglob("*") if p.is_file()]


def test_a_photo_without_a_face_gives_no_persons(space):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (200, 160), (120, 160, 200)).save(buffer, "JPEG")
    result = services.recognize(space, buffer.getvalue(), "sky.jpg", create_new=True)
    assert result.faces == []
    assert vk.recognize_object("file", result) == {"status": 0, "name": "file"}
    with pytest.raises(EnhancerError) as caught:
        services.set_face(space, 1, buffer.getvalue(), "sky.jpg")
    assert caught.value.code == EnhancerError.NO_FACE
    assert caught.value.message == "A photo must show exactly one face."


def test_an_empty_file_is_refused(space):
    with pytest.raises(EnhancerError) as caught:
        services.recognize(space, b"", "empty.jpg", create_new=False)
    assert caught.value.code == EnhancerError.EMPTY_IMAGE
