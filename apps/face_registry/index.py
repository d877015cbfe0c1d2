"""Per-process search index of one space's face embeddings, on faiss.

Each worker process keeps, per space, a faiss index of the space's unit-length embeddings keyed
by face id, and the person of each face. Similarity is the cosine of two embeddings (inner
product of unit vectors).

Two layouts, chosen by the space's size (bench/bench_faces_index.py measured both, see
docs/benchmarks/faces_index.md):

* below :data:`FLAT_MAX_ROWS` faces — ``IndexFlatIP``: exact float32 scan (~0.35 ms at 10k);
* from there on — ``IndexIVFScalarQuantizer`` (IVF, 8-bit scalar quantizer, inner product): the
  faces are grouped under ~4·sqrt(n) k-means centroids and a query scans the :data:`NPROBE`
  nearest groups. 8-bit codes take 128 bytes a face instead of 512 and are scanned faster; they
  move a similarity by at most ~0.002; the exact re-check (SpaceIndex.search) rescores from the
  database.

Freshness: every change to a space's faces bumps ``Space.version`` in the same transaction.
:func:`for_space` reads the version (one indexed query) and, when it differs from the cached
index's, brings the index up to date in place: faces added since are encoded and appended; faces
deleted since are found by comparing face ids and removed. Only a layout change (the flat index
outgrew FLAT_MAX_ROWS, or the IVF grew to REBUILD_GROWTH times the size it was clustered at)
rebuilds from the database. So a search that starts after a change has committed — on any
process or machine — sees it.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import uuid
from dataclasses import dataclass

import numpy as np

# faiss's loader logs at INFO each SIMD build it tries before the one it loads.
logging.getLogger("faiss.loader").setLevel(logging.WARNING)
import faiss  # noqa: E402

# One query is one thread's work: with OpenMP threads a flat search of 10k faces took 44 ms
# (p50) instead of 0.3 ms next to other jobs, spinning for busy cores. Only building a big
# index uses every core (_build).
faiss.omp_set_num_threads(1)

from .models import EMBEDDING_SIZE, Face, Space  # noqa: E402

# Below this an exact float32 scan costs under 0.5 ms and is trivially exact. Measured (CPU time
# per query, p50): flat 0.17 / 0.35 / 0.59 ms at 5k / 10k / 20k faces, IVF 0.10 / 0.11 /
# 0.13 ms with the same recall on those sizes.
FLAT_MAX_ROWS = 10_000
# Groups probed per query. Measured at 1M synthetic faces, 4096 groups: 48 probes found the
# right person for 99.5 % of same-person-like queries, 64 for 99.9 % (bench_faces_index.py).
NPROBE = 64
# How many nearest faces a search looks at before grouping them by person.
CANDIDATES = 64
# Once an IVF index holds this many times the faces it was clustered with, its groups are too
# big (searches slower): it is rebuilt from the database.
REBUILD_GROWTH = 4
# k-means training sample per centroid (faiss's default minimum is 39). At 1M faces (4096
# groups) training on 40 a centroid took 29 s and assigning every face 20 s; on 24, 14 s, for
# the recall bench_faces_index.py reports.
_TRAIN_PER_CENTROID = 24
# The exact re-check rescores every face whose quantized similarity is within this of the best
# candidate (8-bit codes move a similarity by ~0.002 at most: measured in the tests).
_RESCORE_MARGIN = 0.02


def normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


@dataclass(frozen=True)
class Match:
    person_id: int
    similarity: float


def lists_for(rows: int) -> int:
    """IVF groups for a space of ``rows`` faces: the power of two nearest 4·sqrt(rows), and no
    more than k-means can train from the faces there are."""
    nearest = 2 ** round(math.log2(4 * math.sqrt(max(rows, 1))))
    return max(1, min(nearest, rows // _TRAIN_PER_CENTROID))


class SpaceIndex:
    """One space's faces at one ``version``, updated in place by :func:`for_space`.

    Searches and updates of one index take its lock: faiss allows concurrent searches but not a
    search during an add or remove, and a search takes well under a millisecond.
    """

    def __init__(
        self,
        version: int,
        face_ids: np.ndarray,
        person_ids: np.ndarray,
        vectors: np.ndarray,
        *,
        space_id: int | None = None,
    ) -> None:
        self.version = version
        self.space_id = space_id  # where the exact re-check reads float32 embeddings from
        self.lock = threading.RLock()
        face_ids = np.asarray(face_ids, dtype=np.int64)
        order = np.argsort(face_ids, kind="stable")
        # Sorted by face id, so a face's person is one searchsorted away; new faces have higher
        # ids than every earlier one (see _catch_up), so appending keeps the order.
        self.face_ids = np.ascontiguousarray(face_ids[order])
        self.person_ids = np.ascontiguousarray(np.asarray(person_ids, dtype=np.int32)[order])
        vectors = normalise(np.asarray(vectors).reshape(-1, EMBEDDING_SIZE))[order]
        self.clustered_rows = len(face_ids)
        self.index = _build(vectors, self.face_ids)

    # -------------------------------------------------------------- facts

    @property
    def size(self) -> int:
        return len(self.face_ids)

    @property
    def max_face_id(self) -> int:
        return int(self.face_ids[-1]) if len(self.face_ids) else 0

    @property
    def approximate(self) -> bool:
        """True for the IVF layout (a search probes some groups), False for the flat scan."""
        return isinstance(self.index, faiss.IndexIVF)

    @property
    def kind(self) -> str:
        return f"IVF{self.index.nlist},SQ8" if self.approximate else "Flat"

    @property
    def nbytes(self) -> int:
        """Memory the index holds: vectors or codes, faiss's ids, centroids, our id arrays."""
        ours = self.face_ids.nbytes + self.person_ids.nbytes
        if not self.approximate:
            return ours + self.size * (EMBEDDING_SIZE * 4 + 8)
        lists = self.index.invlists
        entries = sum(lists.list_size(group) for group in range(self.index.nlist))
        centroids = self.index.nlist * EMBEDDING_SIZE * 4
        return ours + entries * (self.index.code_size + 8) + centroids

    def outgrown(self, added: int) -> bool:
        """Whether adding ``added`` faces calls for a rebuild in another layout or clustering."""
        rows = self.size + added
        if not self.approximate:
            return rows >= FLAT_MAX_ROWS
        return rows > REBUILD_GROWTH * max(self.clustered_rows, 1)

    # -------------------------------------------------------------- changes

    def update(
        self,
        version: int,
        removed_face_ids: np.ndarray,
        face_ids: np.ndarray,
        person_ids: np.ndarray,
        vectors: np.ndarray,
    ) -> None:
        """Remove and add faces, then take ``version``. Added ids must exceed every held one."""
        with self.lock:
            removed = np.asarray(removed_face_ids, dtype=np.int64)
            if len(removed):
                self.index.remove_ids(faiss.IDSelectorBatch(removed))
                keep = ~np.isin(self.face_ids, removed)
                self.face_ids, self.person_ids = self.face_ids[keep], self.person_ids[keep]
            face_ids = np.asarray(face_ids, dtype=np.int64)
            if len(face_ids):
                if len(self.face_ids) and face_ids[0] <= self.face_ids[-1]:
                    raise ValueError("faces are added in increasing id order")
                vectors = normalise(np.asarray(vectors).reshape(-1, EMBEDDING_SIZE))
                self.index.add_with_ids(vectors, face_ids)
                self.face_ids = np.concatenate([self.face_ids, face_ids])
                self.person_ids = np.concatenate(
                    [self.person_ids, np.asarray(person_ids, dtype=np.int32)]
                )
            self.version = version

    # -------------------------------------------------------------- search

    def search(self, embedding: np.ndarray, limit: int = 8, exact: bool = False) -> list[Match]:
        """The most similar persons, best first, each with the similarity of its best face.

        ``exact`` scans every group of an IVF index and rescores the closest faces from their
        float32 embeddings in the database, so nothing the prefilter or the 8-bit codes would
        miss is missed (services runs it under the space lock before creating a person).
        """
        query = normalise(np.asarray(embedding).reshape(1, EMBEDDING_SIZE))
        with self.lock:
            if self.size == 0:
                return []
            count = min(CANDIDATES, self.size)
            params = None
            if self.approximate:
                probes = self.index.nlist if exact else min(NPROBE, self.index.nlist)
                params = faiss.SearchParametersIVF(nprobe=probes)
            similarities, face_ids = self.index.search(query, count, params=params)
            similarities, face_ids = similarities[0], face_ids[0]
            found = face_ids >= 0
            similarities, face_ids = similarities[found], face_ids[found]
            persons = self.person_ids[np.searchsorted(self.face_ids, face_ids)]
        if exact and self.approximate and self.space_id is not None and len(face_ids):
            similarities = _rescored(self.space_id, query[0], face_ids, similarities)
        matches: dict[int, float] = {}
        for position in np.argsort(-similarities, kind="stable"):
            person = int(persons[position])
            if person not in matches:
                matches[person] = float(similarities[position])
        return [Match(person, similarity) for person, similarity in list(matches.items())[:limit]]


def _build(vectors: np.ndarray, face_ids: np.ndarray) -> faiss.Index:
    if len(vectors) < FLAT_MAX_ROWS:
        index = faiss.IndexIDMap(faiss.IndexFlatIP(EMBEDDING_SIZE))
        if len(vectors):
            index.add_with_ids(vectors, face_ids)
        return index
    groups = lists_for(len(vectors))
    quantizer = faiss.IndexFlatIP(EMBEDDING_SIZE)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, EMBEDDING_SIZE, groups, faiss.ScalarQuantizer.QT_8bit,
        faiss.METRIC_INNER_PRODUCT, False,  # not by residual: one code table, faster scans
    )
    index.cp.min_points_per_centroid = _TRAIN_PER_CENTROID  # no warning for our sample
    rng = np.random.default_rng(0)
    sample = min(len(vectors), groups * _TRAIN_PER_CENTROID)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        index.train(vectors[rng.choice(len(vectors), sample, replace=False)])
        _add_grouped(index, vectors, face_ids)
    finally:
        faiss.omp_set_num_threads(1)
    return index


def _add_grouped(index: faiss.IndexIVF, vectors: np.ndarray, face_ids: np.ndarray) -> None:
    """Add every face with one append per group.

    ``add_with_ids`` appends face by face, and each group's storage then grows by doubling:
    measured 1.6x the codes' size at 1M faces. One append per group allocates exactly.
    """
    _, groups = index.quantizer.search(vectors, 1)
    groups = np.ascontiguousarray(groups.ravel())
    codes = np.empty((len(vectors), index.code_size), dtype=np.uint8)
    index.encode_vectors(
        len(vectors), faiss.swig_ptr(vectors), faiss.swig_ptr(groups), faiss.swig_ptr(codes)
    )
    order = np.argsort(groups, kind="stable")
    ids, codes = np.ascontiguousarray(face_ids[order]), np.ascontiguousarray(codes[order])
    bounds = np.concatenate([[0], np.cumsum(np.bincount(groups, minlength=index.nlist))])
    for group in range(index.nlist):
        start, end = int(bounds[group]), int(bounds[group + 1])
        if end > start:
            index.invlists.add_entries(
                group, end - start, faiss.swig_ptr(ids[start:end]), faiss.swig_ptr(codes[start:end])
            )
    index.ntotal = len(vectors)


def _rescored(
    space_id: int, query: np.ndarray, face_ids: np.ndarray, similarities: np.ndarray
) -> np.ndarray:
    """Exact similarities (float32 embeddings from the database) for the faces near the top."""
    close = similarities >= similarities.max() - _RESCORE_MARGIN
    rows = dict(
        Face.objects.filter(space_id=space_id, id__in=[int(i) for i in face_ids[close]])
        .values_list("id", "embedding")
    )
    exact = similarities.copy()
    for position in np.flatnonzero(close):
        blob = rows.get(int(face_ids[position]))
        if blob is not None:
            vector = normalise(np.frombuffer(bytes(blob), dtype="<f4"))
            exact[position] = float(vector @ query)
    return exact


# --------------------------------------------------------------------------- per-process cache

_lock = threading.Lock()
# space id → (the space's uuid, its index). The uuid is checked too because a database may hand a
# deleted space's id to a new space (SQLite does), which starts again at the same version.
_cache: dict[int, tuple[uuid.UUID, SpaceIndex]] = {}


def _read_faces(space_id: int, after_id: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(face ids, person ids, embeddings) of the space's faces with id > ``after_id``."""
    rows = (
        Face.objects.filter(space_id=space_id, id__gt=after_id)
        .order_by("id")
        .values_list("id", "person__person_id", "embedding")
    )
    face_ids: list[int] = []
    person_ids: list[int] = []
    blobs: list[bytes] = []
    for face_id, person_id, blob in rows.iterator(chunk_size=10_000):
        face_ids.append(face_id)
        person_ids.append(person_id)
        blobs.append(bytes(blob))
    vectors = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(-1, EMBEDDING_SIZE)
    return np.asarray(face_ids, dtype=np.int64), np.asarray(person_ids, dtype=np.int64), vectors


def load(space_id: int) -> SpaceIndex:
    """Read a space's embeddings from the database into a new index."""
    # Read the version BEFORE the faces: a change committing in between then leaves the index
    # newer than its version, which only costs one extra catch-up — never a stale index.
    version = Space.objects.filter(pk=space_id).values_list("version", flat=True).get()
    face_ids, person_ids, vectors = _read_faces(space_id)
    return SpaceIndex(version, face_ids, person_ids, vectors, space_id=space_id)


def _catch_up(cached: SpaceIndex, space_id: int) -> bool:
    """Bring ``cached`` up to the space's current version in place; False when it needs a
    rebuild (see SpaceIndex.outgrown).

    Sound because every write to a space holds its row lock until commit (services._lock_space),
    so a space's face ids commit in increasing order: a face we have not seen has an id above
    ``max_face_id``, and the faces at or below it are exactly ours unless some were deleted.
    """
    with cached.lock:
        version = Space.objects.filter(pk=space_id).values_list("version", flat=True).get()
        if cached.version == version:
            return True  # another thread of this process caught up first
        highest = cached.max_face_id
        below = Face.objects.filter(space_id=space_id, id__lte=highest)
        removed = np.empty(0, dtype=np.int64)
        if below.count() != cached.size:
            # Some faces were deleted: the ids still there tell which.
            present = np.fromiter(below.values_list("id", flat=True).iterator(), dtype=np.int64)
            removed = np.setdiff1d(cached.face_ids, present, assume_unique=True)
        face_ids, person_ids, vectors = _read_faces(space_id, highest)
        if cached.outgrown(len(face_ids) - len(removed)):
            return False
        cached.update(version, removed, face_ids, person_ids, vectors)
        return True


def for_space(space_id: int) -> SpaceIndex:
    """This process's index of the space, brought up to date if the space changed since."""
    version, space_uuid = Space.objects.filter(pk=space_id).values_list("version", "uuid").get()
    entry = _cache.get(space_id)
    cached = entry[1] if entry is not None and entry[0] == space_uuid else None
    if cached is not None and (cached.version == version or _catch_up(cached, space_id)):
        return cached
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
