"""Each worker process keeps its own index; a committed change must be seen by every other
process's next search (Space.version check), here with a second real process."""

from __future__ import annotations

import pytest

from apps.face_registry import index, services
from apps.face_registry.models import Face, Space
from tests.helpers import RegistryProcess, process_env

from .conftest import needs_face_models

pytestmark = [pytest.mark.slow, needs_face_models]


@pytest.fixture
def other_process(transactional_db, private_media):
    process = RegistryProcess(process_env(private_media, LOG_LEVEL="WARNING"))
    yield process
    process.close()


def test_changes_in_one_process_are_seen_by_the_other(alice, other_process, fixture_path, face_photo):
    space = services.get_space(alice, 0)
    obama, obama2 = str(fixture_path("faces/obama.jpg")), face_photo("obama2.jpg")

    # Both processes build (empty) indexes of the space first, so both have something to go stale.
    assert services.recognize(space, obama2, "o2", False).faces[0].tag == "undefined"
    assert other_process(op="recognize", space=space.pk, path=obama) == {"tags": ["undefined"]}

    other_process(op="set", space=space.pk, person_id=1, path=obama)
    assert services.recognize(space, obama2, "o2", False).faces[0].tag == "person1"
    assert Face.objects.filter(space=space).count() == 1

    services.set_face(space, 2, face_photo("biden.jpg"), "biden.jpg")
    biden = str(fixture_path("faces/biden.jpg"))
    assert other_process(op="recognize", space=space.pk, path=biden) == {"tags": ["person2"]}

    assert services.delete_person(space, 1)
    assert other_process(op="recognize", space=space.pk, path=obama) == {"tags": ["undefined"]}

    assert other_process(op="delete_person", space=space.pk, person_id=2) == {"deleted": True}
    assert services.recognize(space, face_photo("biden.jpg"), "b", False).faces[0].tag == "undefined"


@pytest.mark.django_db
def test_a_stale_cached_index_is_reloaded_when_the_version_moves(alice):
    space = services.get_space(alice, 0)
    first = index.for_space(space.pk)
    version = first.version
    assert index.for_space(space.pk) is first  # unchanged: the cached one
    Space.objects.filter(pk=space.pk).update(version=version + 1)
    assert index.for_space(space.pk).version == version + 1  # caught up


@pytest.mark.django_db
def test_a_new_space_that_reuses_a_deleted_ones_id_starts_empty(alice, bob, monkeypatch):
    import numpy as np

    from apps.face_registry.models import Person

    old = services.get_space(alice, 0)
    person = Person.objects.create(space=old, person_id=1)
    Face.objects.create(space=old, person=person, embedding=np.ones(128, "<f4").tobytes(),
                        left=0, top=0, right=1, bottom=1)
    assert index.for_space(old.pk).size == 1
    old_pk, old_version = old.pk, Space.objects.get(pk=old.pk).version
    Space.objects.filter(pk=old_pk).delete()
    # SQLite may give the freed id to the next space, which starts at the same version.
    reused = Space.objects.create(pk=old_pk, owner=bob, number=0, version=old_version)
    assert index.for_space(reused.pk).size == 0
