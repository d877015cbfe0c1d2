"""The faiss space index against brute force on random data, and its in-place updates."""

from __future__ import annotations

import numpy as np
import pytest

from apps.face_registry import index, services
from apps.face_registry.models import Face, Person


def _random_faces(rows: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return index.normalise(rng.standard_normal((rows, 128), dtype=np.float32))


def _brute_force(vectors: np.ndarray, person_ids: np.ndarray, query: np.ndarray) -> list[int]:
    """Persons by their best face's similarity, best first (what search must return)."""
    similarities = vectors @ index.normalise(query)
    order = np.argsort(-similarities, kind="stable")
    return list(dict.fromkeys(int(person_ids[row]) for row in order))


def test_a_small_space_is_searched_exactly_like_brute_force():
    vectors = _random_faces(500, 1)
    person_ids = np.arange(500) // 2 + 1  # two faces a person
    snapshot = index.SpaceIndex(3, np.arange(1, 501), person_ids, vectors)
    assert not snapshot.approximate and snapshot.kind == "Flat"
    queries = _random_faces(20, 2)
    for query in queries:
        found = snapshot.search(query, limit=5)
        assert [m.person_id for m in found] == _brute_force(vectors, person_ids, query)[:5]
        assert found[0].similarity == pytest.approx(
            float(np.max(vectors @ index.normalise(query))), abs=1e-5
        )


def test_a_large_space_uses_ivf_with_high_recall_and_an_exhaustive_exact_mode(monkeypatch):
    monkeypatch.setattr(index, "FLAT_MAX_ROWS", 2_000)
    rows = 6_000
    vectors = _random_faces(rows, 3)
    person_ids = np.arange(rows) + 1
    snapshot = index.SpaceIndex(1, np.arange(1, rows + 1), person_ids, vectors)
    assert snapshot.approximate and snapshot.kind.startswith("IVF")
    assert snapshot.nbytes < rows * 200  # 8-bit codes: ~150 bytes a face, not 512
    rng = np.random.default_rng(4)
    sources = rng.choice(rows, 200, replace=False)
    # Same-person-like queries: cosine ≈ 0.93 to their source.
    queries = vectors[sources] + 0.035 * rng.standard_normal((200, 128), dtype=np.float32)
    hits = sum(snapshot.search(q)[0].person_id == person_ids[s] for s, q in zip(sources, queries, strict=True))
    assert hits / len(sources) >= 0.98
    for source, query in zip(sources[:20], queries[:20], strict=True):
        best = snapshot.search(query, exact=True)[0]
        exact = float(vectors[source] @ index.normalise(query))
        assert best.person_id == person_ids[source]
        assert best.similarity == pytest.approx(exact, abs=0.005)  # 8-bit codes, not rescored


def test_updates_in_place_add_and_remove_faces(monkeypatch):
    for flat_max in (10_000, 1_000):  # once flat, once IVF
        monkeypatch.setattr(index, "FLAT_MAX_ROWS", flat_max)
        vectors = _random_faces(3_000, 5)
        snapshot = index.SpaceIndex(1, np.arange(1, 2_001), np.arange(1, 2_001), vectors[:2_000])
        newcomers = vectors[2_000:2_010]
        snapshot.update(2, np.array([7, 8]), np.arange(5_001, 5_011), np.full(10, 99_999), newcomers)
        assert (snapshot.version, snapshot.size) == (2, 2_008)
        assert snapshot.search(newcomers[3])[0].person_id == 99_999
        assert all(m.person_id not in (7, 8) for m in snapshot.search(vectors[6], limit=50))
        assert snapshot.search(vectors[8])[0].person_id == 9  # neighbours keep their persons
        with pytest.raises(ValueError):
            snapshot.update(3, [], np.array([4]), np.array([1]), vectors[:1])


@pytest.mark.django_db
def test_the_cache_catches_up_in_place_and_rebuilds_only_when_outgrown(alice, monkeypatch):
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
    cached = index.for_space(space.pk)
    assert cached.size == 1 and len(loads) == 1

    added = add(2)
    assert index.for_space(space.pk) is cached and cached.size == 2 and len(loads) == 1
    assert cached.search(np.frombuffer(added.embedding, "<f4"))[0].person_id == 2

    first.delete()
    services._bump(space)
    assert index.for_space(space.pk) is cached and len(loads) == 1  # removed in place
    assert [m.person_id for m in cached.search(np.frombuffer(first.embedding, "<f4"))] == [2]

    monkeypatch.setattr(index, "FLAT_MAX_ROWS", 3)  # the next two faces outgrow the flat layout
    add(3), add(4)
    rebuilt = index.for_space(space.pk)
    assert rebuilt is not cached and len(loads) == 2 and rebuilt.size == 3 and rebuilt.approximate


@pytest.mark.django_db
def test_the_exact_recheck_rescores_from_the_database(alice, monkeypatch):
    """An IVF index's exact search reports the float32 similarity, not the 8-bit one."""
    monkeypatch.setattr(index, "FLAT_MAX_ROWS", 50)
    space = services.get_space(alice, 0)
    vectors = _random_faces(300, 6)
    person = Person.objects.create(space=space, person_id=1)
    Face.objects.bulk_create(
        Face(space=space, person=person, embedding=v.astype("<f4").tobytes(), left=0, top=0,
             right=1, bottom=1)
        for v in vectors
    )
    snapshot = index.for_space(space.pk)
    assert snapshot.approximate
    query = vectors[17] + 0.03 * np.random.default_rng(7).standard_normal(128).astype(np.float32)
    exact = float(vectors[17] @ index.normalise(query))
    assert snapshot.search(query, exact=True)[0].similarity == pytest.approx(exact, abs=1e-6)


def test_the_match_threshold_grows_with_the_space():
    assert services.match_threshold(0) == services.MATCH_SIMILARITY
    assert services.match_threshold(services.THRESHOLD_BASE_FACES) == services.MATCH_SIMILARITY
    ten_times = services.match_threshold(10 * services.THRESHOLD_BASE_FACES)
    assert ten_times == pytest.approx(services.MATCH_SIMILARITY + services.THRESHOLD_PER_DECADE)
    sizes = [10**k for k in range(2, 9)]
    thresholds = [services.match_threshold(size) for size in sizes]
    assert thresholds == sorted(thresholds) and thresholds[-1] == services.THRESHOLD_MAX


@pytest.mark.django_db
def test_recognize_applies_the_threshold_of_the_spaces_size(alice, monkeypatch):
    """A face as similar as 0.93 matches in a small space, not in one of a million faces."""
    from apps.imaging import faces as engine

    space = services.get_space(alice, 0)
    rng = np.random.default_rng(8)
    enrolled = index.normalise(rng.standard_normal(128).astype(np.float32))
    person = Person.objects.create(space=space, person_id=7)
    Face.objects.create(space=space, person=person, embedding=enrolled.astype("<f4").tobytes(),
                        left=0, top=0, right=1, bottom=1)
    services._bump(space)
    noise = index.normalise(rng.standard_normal(128).astype(np.float32))
    noise -= (noise @ enrolled) * enrolled
    query = 0.93 * enrolled + np.sqrt(1 - 0.93**2) * index.normalise(noise)
    face = engine.Face(box=(0, 0, 10, 10), confidence=0.9, landmarks=[(0.0, 0.0)] * 5,
                       embedding=query.astype(np.float32), chip=np.zeros((150, 150, 3), np.uint8),
                       sex=None, age=None, emotion=None, emotions=None, valence=None,
                       arousal=None, frontality=1.0, visibility=1.0, awesomeness=1.0)
    monkeypatch.setattr(services, "analyze", lambda image: services.Analysis(10, 10, [face]))
    small = services.recognize(space, b"", "q", create_new=False).faces[0]
    assert small.person_id == 7 and small.similarity == pytest.approx(0.93, abs=1e-4)
    monkeypatch.setattr(index.SpaceIndex, "size", property(lambda self: 1_000_000))
    assert services.recognize(space, b"", "q", create_new=False).faces[0].person_id is None
