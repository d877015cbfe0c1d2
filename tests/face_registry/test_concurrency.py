"""Two simultaneous recognize(create_new=True) calls with the same unknown face make one person."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from apps.face_registry import index, services
from apps.face_registry.models import Person

from .conftest import needs_face_models

pytestmark = [pytest.mark.slow, needs_face_models]


def test_two_concurrent_create_new_calls_create_one_person(
    alice, transactional_db, face_photo, private_media, monkeypatch
):
    space = services.get_space(alice, 0)
    photo = face_photo("biden.jpg")
    services.analyze(photo)  # analysed once up front, so both threads reach the race together

    # Both calls take their index snapshot (no persons yet) before either creates anyone: the
    # second one can only avoid a duplicate by searching again under the space lock.
    both_searched = threading.Barrier(2, timeout=30)
    real_for_space = index.for_space
    waited = threading.local()

    def for_space_then_wait(space_id):
        snapshot = real_for_space(space_id)
        if not getattr(waited, "done", False):  # only the first search of each call
            waited.done = True
            both_searched.wait()
        return snapshot

    monkeypatch.setattr(index, "for_space", for_space_then_wait)
    tags: list[str] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            result = services.recognize(space, photo, "biden.jpg", create_new=True)
            tags.extend(face.tag for face in result.faces)
        except BaseException as error:  # noqa: BLE001 - re-raised by the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert tags == ["person1", "person1"]
    assert list(Person.objects.filter(space=space).values_list("person_id", flat=True)) == [1]
    assert Person.objects.get(space=space).faces.count() == 1
