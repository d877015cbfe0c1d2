"""Per-process in-memory search index of one space's face embeddings.

Each worker process keeps, per space, a float32 matrix of unit-length embeddings and the
person id of each row. Similarity is the cosine of two embeddings (one matrix-vector product).

Freshness: every change to a space's faces bumps ``Space.version`` in the same transaction.
:func:`for_space` reads the version (one indexed query) and reloads the matrix when it differs
from the cached one, so a search that starts after a change has committed — on any process or
machine — sees it.

Speed (measured by bench/bench_faces_index.py, see docs/benchmarks/faces_index.md): an exact
scan is ~0.1 ms at 10k faces but 25–70 ms at 1M on 2 cores (512 MB of float32 read per query),
so spaces with at least :data:`IVF_MIN_ROWS` faces get an inverted-file prefilter: the rows are
grouped by their nearest of ~sqrt(n) k-means centroids and a query scans only the
:data:`IVF_PROBES` nearest groups.
"""

from __future__ import annotations

import copy
import math
import threading
import uuid
from dataclasses import dataclass

import numpy as np

from .models import EMBEDDING_SIZE, Face, Space

# Below this an exact scan is faster than probing (and trivially exact).
IVF_MIN_ROWS = 20_000
# Groups probed per query. Measured at 1M synthetic faces (1000 groups): 24 probes found the
# right person for 98.7 % of same-person-like queries, 48 for 99.8 % at p95 ≈ 7 ms.
IVF_PROBES = 48
# How many nearest rows a search looks at before grouping them by person.
CANDIDATES = 64
# Faces added since a big index was clustered are scanned exactly; past this many it is rebuilt.
TAIL_MAX = 20_000
_KMEANS_ITERATIONS = 8
_KMEANS_SAMPLE_PER_CENTROID = 40


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


@dataclass(frozen=True)
class Match:
    person_id: int
    similarity: float


class SpaceIndex:
    """Immutable snapshot of one space's embeddings at one ``version``.

    Rows are the ``main`` part (grouped by centroid once the space is big) plus a ``tail`` of
    faces added since it was built, always scanned exactly, so an enrollment costs a small
    append instead of re-clustering a million rows (see :func:`for_space`).
    """

    def __init__(
        self,
        version: int,
        person_ids: np.ndarray,
        vectors: np.ndarray,
        max_face_id: int = 0,
    ) -> None:
        self.version = version
        self.max_face_id = max_face_id
        vectors = normalise(vectors.reshape(-1, EMBEDDING_SIZE))
        person_ids = np.asarray(person_ids, dtype=np.int64)
        self.centroids: np.ndarray | None = None
        self.offsets: np.ndarray | None = None
        order = np.arange(len(person_ids))
        if len(person_ids) >= IVF_MIN_ROWS:
            self.centroids, assignment = _kmeans(vectors)
            order = np.argsort(assignment, kind="stable")
            counts = np.bincount(assignment, minlength=len(self.centroids))
            self.offsets = np.concatenate([[0], np.cumsum(counts)])
        self.vectors = np.ascontiguousarray(vectors[order])
        self.person_ids = np.ascontiguousarray(person_ids[order])
        self.tail_vectors = np.empty((0, EMBEDDING_SIZE), dtype=np.float32)
        self.tail_person_ids = np.empty(0, dtype=np.int64)

    @property
    def size(self) -> int:
        return len(self.person_ids) + len(self.tail_person_ids)

    @property
    def nbytes(self) -> int:
        extra = 0 if self.centroids is None else self.centroids.nbytes + self.offsets.nbytes
        tail = self.tail_vectors.nbytes + self.tail_person_ids.nbytes
        return self.vectors.nbytes + self.person_ids.nbytes + extra + tail

    def extended(
        self, version: int, person_ids: np.ndarray, vectors: np.ndarray, max_face_id: int
    ) -> SpaceIndex:
        """A new snapshot with these faces added; this one is left as it was."""
        if self.centroids is None and len(self.person_ids) + len(person_ids) < IVF_MIN_ROWS:
            return SpaceIndex(
                version,
                np.concatenate([self.person_ids, self.tail_person_ids, person_ids]),
                np.concatenate([self.vectors, self.tail_vectors, vectors.reshape(-1, EMBEDDING_SIZE)]),
                max_face_id,
            )
        clone = copy.copy(self)  # shares the (never modified) main arrays
        clone.version, clone.max_face_id = version, max_face_id
        clone.tail_vectors = np.concatenate(
            [self.tail_vectors, normalise(vectors.reshape(-1, EMBEDDING_SIZE))]
        )
        clone.tail_person_ids = np.concatenate([self.tail_person_ids, person_ids])
        return clone

    def search(self, embedding: np.ndarray, limit: int = 8, exact: bool = False) -> list[Match]:
        """The most similar persons, best first, each with the similarity of its best face.

        ``exact`` scans every row even where the prefilter would probe only some groups.
        """
        if self.size == 0:
            return []
        query = normalise(embedding)
        if self.centroids is None or exact:
            rows = np.arange(len(self.person_ids))
            similarities = _dot(self.vectors, query)
        else:
            probes = _top(_dot(self.centroids, query), IVF_PROBES)
            rows = np.concatenate(
                [np.arange(self.offsets[g], self.offsets[g + 1]) for g in probes]
            )
            similarities = np.concatenate(
                [_dot(self.vectors[self.offsets[g] : self.offsets[g + 1]], query) for g in probes]
            )
        owners = self.person_ids[rows]
        if len(self.tail_person_ids):
            owners = np.concatenate([owners, self.tail_person_ids])
            similarities = np.concatenate([similarities, _dot(self.tail_vectors, query)])
        best = _top(similarities, CANDIDATES)
        matches: dict[int, float] = {}
        for position in best:
            person = int(owners[position])
            if person not in matches:
                matches[person] = float(similarities[position])
        ranked = sorted(matches.items(), key=lambda item: -item[1])[:limit]
        return [Match(person, similarity) for person, similarity in ranked]


# OpenBLAS spreads a matrix-vector product over all cores from ~4k rows of 128 up. On a busy
# worker that made a 10k-row search take 0.1 ms alone but 20–40 ms (p95) next to other jobs,
# waiting for a core; blocks of this many rows stay on the calling thread.
_DOT_BLOCK = 2048


def _dot(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``matrix @ query`` computed in single-threaded blocks (see _DOT_BLOCK)."""
    if len(matrix) <= _DOT_BLOCK:
        return matrix @ query
    out = np.empty(len(matrix), dtype=np.float32)
    for start in range(0, len(matrix), _DOT_BLOCK):
        np.matmul(matrix[start : start + _DOT_BLOCK], query, out=out[start : start + _DOT_BLOCK])
    return out


def _top(values: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` largest values, largest first."""
    if len(values) > count:
        part = np.argpartition(-values, count - 1)[:count]
    else:
        part = np.arange(len(values))
    return part[np.argsort(-values[part], kind="stable")]


def _kmeans(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spherical k-means on a sample; returns (centroids, assignment of every row)."""
    groups = max(1, int(math.sqrt(len(vectors))))
    rng = np.random.default_rng(0)
    sample_size = min(len(vectors), groups * _KMEANS_SAMPLE_PER_CENTROID)
    sample = vectors[rng.choice(len(vectors), sample_size, replace=False)]
    centroids = sample[rng.choice(sample_size, groups, replace=False)].copy()
    for _ in range(_KMEANS_ITERATIONS):
        nearest = _assign(sample, centroids)
        sums = np.zeros_like(centroids)
        np.add.at(sums, nearest, sample)
        empty = np.bincount(nearest, minlength=groups) == 0
        sums[empty] = centroids[empty]  # an empty group keeps its old centre
        centroids = normalise(sums)
    return centroids, _assign(vectors, centroids)


def _assign(vectors: np.ndarray, centroids: np.ndarray, chunk: int = 65_536) -> np.ndarray:
    out = np.empty(len(vectors), dtype=np.int64)
    for start in range(0, len(vectors), chunk):
        out[start : start + chunk] = np.argmax(vectors[start : start + chunk] @ centroids.T, axis=1)
    return out


# --------------------------------------------------------------------------- per-process cache

_lock = threading.Lock()
# space id → (the space's uuid, its index). The uuid is checked too because a database may hand a
# deleted space's id to a new space (SQLite does), which starts again at the same version.
_cache: dict[int, tuple[uuid.UUID, SpaceIndex]] = {}


def _read_faces(space_id: int, after_id: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """(person ids, embeddings, highest face id) of the space's faces with id > ``after_id``."""
    rows = (
        Face.objects.filter(space_id=space_id, id__gt=after_id)
        .order_by("id")
        .values_list("id", "person__person_id", "embedding")
    )
    person_ids: list[int] = []
    blobs: list[bytes] = []
    highest = after_id
    for face_id, person_id, blob in rows.iterator(chunk_size=10_000):
        person_ids.append(person_id)
        blobs.append(bytes(blob))
        highest = face_id
    vectors = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(-1, EMBEDDING_SIZE)
    return np.asarray(person_ids, dtype=np.int64), vectors, highest


def load(space_id: int) -> SpaceIndex:
    """Read a space's embeddings from the database into a new index."""
    # Read the version BEFORE the faces: a change committing in between then leaves the snapshot
    # newer than its version, which only costs one extra reload — never a stale index.
    version = Space.objects.filter(pk=space_id).values_list("version", flat=True).get()
    person_ids, vectors, highest = _read_faces(space_id)
    return SpaceIndex(version, person_ids, vectors, highest)


def _catch_up(cached: SpaceIndex, space_id: int, version: int) -> SpaceIndex | None:
    """``cached`` plus the faces added since, or None when any of its faces was deleted.

    Sound because every write to a space holds its row lock until commit (services._lock_space),
    so a space's face ids commit in increasing order: a face we have not seen has an id above
    ``max_face_id``, and the faces at or below it are exactly ours unless some were deleted.
    """
    if len(cached.tail_person_ids) >= TAIL_MAX:
        return None
    kept = Face.objects.filter(space_id=space_id, id__lte=cached.max_face_id).count()
    if kept != cached.size:
        return None
    person_ids, vectors, highest = _read_faces(space_id, cached.max_face_id)
    if len(cached.tail_person_ids) + len(person_ids) > TAIL_MAX:
        return None
    return cached.extended(version, person_ids, vectors, highest)


def for_space(space_id: int) -> SpaceIndex:
    """This process's index of the space, brought up to date if the space changed since."""
    version, space_uuid = Space.objects.filter(pk=space_id).values_list("version", "uuid").get()
    entry = _cache.get(space_id)
    cached = entry[1] if entry is not None and entry[0] == space_uuid else None
    if cached is not None and cached.version == version:
        return cached
    fresh = _catch_up(cached, space_id, version) if cached is not None else None
    if fresh is None:
        fresh = load(space_id)
    with _lock:
        current = _cache.get(space_id)
        if current is None or current[0] != space_uuid or current[1].version <= fresh.version:
            _cache[space_id] = (space_uuid, fresh)
    return fresh


def forget(space_id: int | None = None) -> None:
    """Drop cached indexes (all of them without an id); tests and space deletion use it."""
    with _lock:
        if space_id is None:
            _cache.clear()
        else:
            _cache.pop(space_id, None)
