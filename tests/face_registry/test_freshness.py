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
    assert index.for_space(space.pk) is first  # unchanged: the cached one
    Space.objects.filter(pk=space.pk).update(version=first.version + 1)
    assert index.for_space(space.pk) is not first


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


def test_a_large_index_searches_approximately_but_can_scan_exactly(monkeypatch):
    import numpy as np

    monkeypatch.setattr(index, "IVF_MIN_ROWS", 2_000)
    rng = np.random.default_rng(3)
    vectors = index.normalise(rng.standard_normal((5_000, 128), dtype=np.float32))
    person_ids = np.arange(5_000) // 2 + 1  # two faces per person
    snapshot = index.SpaceIndex(4, person_ids, vectors)
    assert snapshot.centroids is not None and snapshot.version == 4
    for row in (0, 1, 2_345, 4_999):
        query = vectors[row] + 0.03 * rng.standard_normal(128, dtype=np.float32)
        for exact in (False, True):
            best = snapshot.search(query, exact=exact)[0]
            assert best.person_id == person_ids[row] and best.similarity > 0.9


@pytest.mark.django_db
def test_added_faces_are_appended_and_a_deletion_forces_a_reload(alice, monkeypatch):
    import numpy as np

    from apps.face_registry.models import Person

    space = services.get_space(alice, 0)
    rng = np.random.default_rng(5)

    def add(person_id: int) -> Face:
        person, _ = Person.objects.get_or_create(space=space, person_id=person_id)
        vector = rng.standard_normal(128).astype("<f4")
        face = Face.objects.create(space=space, person=person, embedding=vector.tobytes(),
                                   left=0, top=0, right=1, bottom=1)
        services._bump(space)
        return face

    first = add(1)
    loads = []
    real_load = index.load
    monkeypatch.setattr(index, "load", lambda space_id: loads.append(space_id) or real_load(space_id))
    assert index.for_space(space.pk).size == 1 and len(loads) == 1

    added = add(2)
    snapshot = index.for_space(space.pk)
    assert (snapshot.size, len(loads)) == (2, 1)  # caught up without a full reload
    assert snapshot.search(np.frombuffer(added.embedding, "<f4"))[0].person_id == 2

    first.delete()
    services._bump(space)
    snapshot = index.for_space(space.pk)
    assert (snapshot.size, len(loads)) == (1, 2)  # a deletion: reloaded
    assert [m.person_id for m in snapshot.search(np.frombuffer(first.embedding, "<f4"))] == [2]


def test_a_big_index_keeps_new_faces_in_an_exactly_scanned_tail(monkeypatch):
    import numpy as np

    monkeypatch.setattr(index, "IVF_MIN_ROWS", 2_000)
    rng = np.random.default_rng(9)
    vectors = rng.standard_normal((3_000, 128)).astype(np.float32)
    big = index.SpaceIndex(1, np.arange(3_000), vectors, max_face_id=3_000)
    newcomer = rng.standard_normal((1, 128)).astype(np.float32)
    grown = big.extended(2, np.array([99_999]), newcomer, max_face_id=3_001)
    assert grown.vectors is big.vectors and grown.size == 3_001 and big.size == 3_000
    for exact in (False, True):
        assert grown.search(newcomer[0], exact=exact)[0].person_id == 99_999
        assert grown.search(vectors[17], exact=exact)[0].person_id == 17
