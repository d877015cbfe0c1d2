"""Everything that reads or changes face registries. Web pages, the native API and the VK
``persons/*`` endpoints all call these functions — one code path per behaviour.

Ownership is the caller's job only in choosing the space: views and endpoints obtain it with
:func:`get_space` (or a query scoped to ``request.user``); every function here then works inside
that one space, so nothing can reach another owner's persons.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Max

from apps.common import metrics
from apps.common.images import image_limits, spend_decode_budget
from apps.imaging import codec
from apps.imaging import faces as engine
from apps.imaging.errors import EnhancerError, gettext_noop
from apps.imaging.picture import Picture
from apps.uploads import allowance

from . import index as face_index
from .models import MAX_SPACES, Face, Person, Space

log = logging.getLogger(__name__)

# Cosine similarity of two dlib embeddings above which they are taken for one person. Chosen by
# bench/measure_face_threshold.py on the shared face fixtures and augmented copies of them
# (scale, JPEG quality, brightness, rotation): see docs/face_threshold.md for the numbers.
# Same-person pairs scored >= 0.944, different-person pairs <= 0.851 (2 556 pairs of 72 faces);
# 0.90 is the middle of that gap and equals dlib's own LFW-validated euclidean threshold of 0.6
# for descriptors of norm ~1.38.
MATCH_SIMILARITY = 0.90
# The threshold grows with the space: the more strangers' faces a space holds, the likelier one
# of them lands above any fixed threshold by chance (bench/bench_false_matches.py measured it
# with 100,000 distractor identities; docs/face_threshold.md). MATCH_SIMILARITY up to
# THRESHOLD_BASE_FACES faces, THRESHOLD_PER_DECADE more for each tenfold beyond, at most
# THRESHOLD_MAX.
THRESHOLD_BASE_FACES = 1_000
THRESHOLD_PER_DECADE = 0.02
THRESHOLD_MAX = 0.96


def match_threshold(faces: int) -> float:
    """The similarity a face needs to be taken for someone in a space of ``faces`` faces."""
    if faces <= THRESHOLD_BASE_FACES:
        return MATCH_SIMILARITY
    decades = math.log10(faces / THRESHOLD_BASE_FACES)
    return min(THRESHOLD_MAX, MATCH_SIMILARITY + THRESHOLD_PER_DECADE * decades)

UNDEFINED = "undefined"
# The largest person id a Person row holds (a PositiveIntegerField: 2**31 - 1 on every database).
MAX_PERSON_ID = 2**31 - 1

# --------------------------------------------------------------------------- analysis


@dataclass(frozen=True)
class Analysis:
    width: int
    height: int
    faces: list[engine.Face]


def decode(data: bytes) -> Picture:
    """Decode a photo under the installation's limits (the same refusals as validate_image).

    A surface that must refuse a bad photo before doing anything decodes it here once and
    hands the picture on, rather than checking the bytes and having them decoded again.
    """
    spend_decode_budget(data)
    return codec.decode(data, image_limits())


def analyze(image: bytes | Picture, max_faces: int | None = None) -> Analysis:
    """Find every face (largest first) in a photo, decoding it first when given its bytes;
    more than ``max_faces`` is refused (TOO_MANY_FACES) before they are analysed."""
    reason = engine.available()
    if reason:
        raise EnhancerError(
            EnhancerError.UNAVAILABLE, gettext_noop("Face analysis is unavailable: %(reason)s"),
            {"reason": reason},
        )
    picture = decode(image) if isinstance(image, bytes) else image
    return Analysis(picture.width, picture.height, engine.analyze(picture, max_faces=max_faces))


def _charge(space: Space, units: int) -> None:
    """Admitted face work counts against the quota of the API client that owns the space (a
    recognized photo, an enrolled face, each person ``create_new`` makes); web spaces have no
    client and the web allowance counts jobs only."""
    if space.client_id is not None:
        allowance.take_client(space.client, units)


# --------------------------------------------------------------------------- spaces


def get_space(owner, number: int, client=None, create: bool = True) -> Space:
    """The owner's space ``number`` (0–9): the web one, or ``client``'s when a client is given.

    Raises EnhancerError(BAD_PARAMS) for a number outside 0–9, and Space.DoesNotExist when
    ``create`` is false and the space was never used.
    """
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number < MAX_SPACES:
        raise EnhancerError(
            EnhancerError.BAD_PARAMS, gettext_noop("space must be a number from 0 to %(last)s"),
            {"last": MAX_SPACES - 1},
        )
    if client is not None and client.owner_id != owner.pk:
        raise ValueError("an API client's spaces belong to the client's owner")
    lookup = {"owner": owner, "client": client, "number": number}
    if not create:
        return Space.objects.get(**lookup)
    try:
        return Space.objects.get(**lookup)
    except Space.DoesNotExist:
        pass
    try:
        with transaction.atomic():
            return Space.objects.create(**lookup)
    except IntegrityError:  # another request created it first
        return Space.objects.get(**lookup)


def create_space(owner, name: str = "") -> Space:
    """A new web space with the lowest free number; at most MAX_SPACES per owner."""
    taken = set(
        Space.objects.filter(owner=owner, client__isnull=True).values_list("number", flat=True)
    )
    free = [number for number in range(MAX_SPACES) if number not in taken]
    if not free:
        raise EnhancerError(
            EnhancerError.BAD_PARAMS,
            gettext_noop("You already have %(count)s spaces, the most allowed."),
            {"count": MAX_SPACES},
        )
    try:
        with transaction.atomic():
            return Space.objects.create(owner=owner, number=free[0], name=name.strip()[:100])
    except IntegrityError:
        raise EnhancerError(
            EnhancerError.TEMPORARY,
            gettext_noop("Another space was created at the same time; try again."),
        ) from None


def rename_space(space: Space, name: str) -> None:
    space.name = name.strip()[:100]
    space.save(update_fields=["name"])


def rename_person(person: Person, name: str) -> None:
    person.name = name.strip()[:100]
    person.save(update_fields=["name"])


def next_person_id(space: Space) -> int:
    highest = Person.objects.filter(space=space).aggregate(top=Max("person_id"))["top"]
    return (highest or 0) + 1


# --------------------------------------------------------------------------- set


def set_face(space: Space, person_id: int, image: bytes | Picture, image_name: str) -> Face:
    """Enroll the one face in the photo as ``person_id`` (created if new).

    Raises EnhancerError NO_FACE / TOO_MANY_FACES (one message for both) unless
    the photo shows exactly one face, and the decoder's errors for a photo it cannot read.
    """
    if isinstance(person_id, bool) or not isinstance(person_id, int) or not 0 <= person_id <= MAX_PERSON_ID:
        raise EnhancerError(
            EnhancerError.BAD_PARAMS, gettext_noop("person_id must be from 0 to %(last)s"),
            {"last": MAX_PERSON_ID},
        )
    analysis = analyze(image)
    if len(analysis.faces) != 1:
        code = EnhancerError.NO_FACE if not analysis.faces else EnhancerError.TOO_MANY_FACES
        # Each surface words both its own way (VK's is in apps/api/compat/vk.py), telling them
        # apart by the code.
        raise EnhancerError(code, gettext_noop("A photo must show exactly one face."))
    with _files_removed_on_error() as stored, transaction.atomic():
        locked = _lock_space(space)
        _charge(locked, 1)
        person, _ = Person.objects.get_or_create(space=locked, person_id=person_id)
        face = _store_face(locked, person, analysis.faces[0], image_name, stored)
        _bump(locked)
    log.info("space %s: face %s enrolled as %s", space.uuid, face.uuid, person.tag)
    return face


# --------------------------------------------------------------------------- recognize


@dataclass(frozen=True)
class RecognizedFace:
    """One face of a recognize result, in the registry's own terms (no surface's wire format).

    Each surface formats it: ``apps/api/compat/vk.py`` as VK's ``person`` object, the native API
    with its serializers, the recognize page as a table and boxes.
    """

    person_id: int | None  # None: the face is like nobody in the space
    box: tuple[int, int, int, int]  # left, top, right, bottom in the photo's pixels
    other_person_ids: tuple[int, ...]  # other persons the face also matches, closest first
    created: bool  # this call created the person for this face (create_new)
    # Cosine similarity to the person's closest enrolled face (1.0 when the face has just become
    # the person); None when the face is like nobody.
    similarity: float | None
    confidence: float  # 0..1: how sure the detector is that this is a face
    awesomeness: float
    frontality: float
    visibility: float
    # The optional models' attributes; None when their model is not installed here.
    sex: str | None
    age: int | None  # years
    emotion: str | None  # the engine's label: "happy", "sad", …
    valence: float | None
    arousal: float | None

    @property
    def tag(self) -> str:
        """The person's tag (Person.tag), or ``undefined`` for a face like nobody."""
        return UNDEFINED if self.person_id is None else f"person{self.person_id}"

    @property
    def aliases(self) -> list[str]:
        return [f"person{person_id}" for person_id in self.other_person_ids]


def attributes_unavailable() -> dict[str, str | None]:
    """Each optional face attribute → None when this install measures it, else why not.

    Cheap (nothing is loaded), so ``/healthz`` and the face pages ask on every request.
    """
    sex_age, emotion = engine.sex_age_unavailable_reason(), engine.emotion_unavailable_reason()
    return {"sex": sex_age, "age": sex_age, "emotion": emotion, "valence": emotion,
            "arousal": emotion}


@dataclass(frozen=True)
class RecognizeResult:
    width: int
    height: int
    faces: list[RecognizedFace]
    # True when this call created persons (create_new), i.e. the space's persons changed.
    persons_created: bool = False


@metrics.timed_recognition
def recognize(
    space: Space, image: bytes | Picture, image_name: str, create_new: bool
) -> RecognizeResult:
    """Who is in the photo (its bytes, or decoded by :func:`decode`). Unknown faces become new
    persons when ``create_new`` is true.

    A photo with more than ``ENHANCER_MAX_FACES_PER_RECOGNIZE`` faces is refused
    (TOO_MANY_FACES). The photo counts one unit against the space's client quota, and each
    person it creates one more, taken with the persons (all or nothing).
    """
    analysis = analyze(image, max_faces=settings.ENHANCER_MAX_FACES_PER_RECOGNIZE)
    snapshot = face_index.for_space(space.pk) if analysis.faces else None
    matches = [snapshot.search(face.embedding) for face in analysis.faces] if snapshot else []
    threshold = match_threshold(snapshot.size) if snapshot else MATCH_SIMILARITY
    created: set[int] = set()
    if create_new and any(not _accepted(found, threshold) for found in matches):
        matches, created = _create_unknown(space, analysis, image_name, matches, snapshot, threshold)
    else:
        with transaction.atomic():
            _charge(space, 1)
    if not analysis.faces:
        return RecognizeResult(analysis.width, analysis.height, [])
    results = [
        _recognized(face, found, created, threshold)
        for face, found in zip(analysis.faces, matches, strict=True)
    ]
    return RecognizeResult(analysis.width, analysis.height, results, bool(created))


def _accepted(
    found: list[face_index.Match], threshold: float = MATCH_SIMILARITY
) -> list[face_index.Match]:
    return [match for match in found if match.similarity >= threshold]


def _create_unknown(
    space: Space,
    analysis: Analysis,
    image_name: str,
    matches: list[list[face_index.Match]],
    snapshot: face_index.SpaceIndex,
    threshold: float = MATCH_SIMILARITY,
) -> tuple[list[list[face_index.Match]], set[int]]:
    """Give each still-unknown face a new person, one creator per space at a time.

    Two requests with the same unknown face must not both create a person: the space row lock
    (on SQLite, the IMMEDIATE transaction's write lock) serialises them, and the second one
    searches again inside the lock — seeing the first one's committed face — before creating.
    """
    matches = list(matches)
    created: set[int] = set()
    with _files_removed_on_error() as stored, transaction.atomic():
        locked = _lock_space(space)
        if locked.version != snapshot.version:
            snapshot = face_index.for_space(space.pk)
        # Exact here, though a big space's search outside the lock is approximate (IVF, 8-bit
        # codes): a person the prefilter missed must not be created a second time. This path
        # runs only for unknown faces, so the full scan (~30 ms at 1M faces) is rare.
        matches = [
            found if _accepted(found, threshold) else snapshot.search(face.embedding, exact=True)
            for face, found in zip(analysis.faces, matches, strict=True)
        ]
        next_id = next_person_id(locked)
        new_people: list[tuple[int, np.ndarray]] = []
        for position, face in enumerate(analysis.faces):
            if _accepted(matches[position], threshold):
                continue
            query = face_index.normalise(face.embedding)
            # A second face of someone created a moment ago in this same photo joins them.
            same = [
                face_index.Match(pid, float(vector @ query))
                for pid, vector in new_people
                if float(vector @ query) >= threshold
            ]
            if same:
                matches[position] = sorted(same, key=lambda m: -m.similarity)
                continue
            person = Person.objects.create(space=locked, person_id=next_id)
            next_id += 1
            _store_face(locked, person, face, image_name, stored)
            created.add(person.person_id)
            new_people.append((person.person_id, query))
            matches[position] = [face_index.Match(person.person_id, 1.0)]
        _charge(locked, 1 + len(created))
        if created:
            _bump(locked)
    if created:
        log.info("space %s: recognize created %s", space.uuid, sorted(created))
    return matches, created


def _recognized(
    face: engine.Face, found: list[face_index.Match], created: set[int],
    threshold: float = MATCH_SIMILARITY,
) -> RecognizedFace:
    accepted = _accepted(found, threshold)
    person_id = accepted[0].person_id if accepted else None
    similarity = None
    if accepted:
        # A face that just became a new person is that person exactly.
        similarity = 1.0 if person_id in created else min(max(accepted[0].similarity, 0.0), 1.0)
    left, top, right, bottom = face.box
    return RecognizedFace(
        person_id=person_id,
        box=(int(left), int(top), int(right), int(bottom)),
        other_person_ids=tuple(match.person_id for match in accepted[1:]),
        created=person_id in created,
        similarity=similarity,
        confidence=float(face.confidence),
        awesomeness=float(face.awesomeness),
        frontality=float(face.frontality),
        visibility=float(face.visibility),
        sex=face.sex,
        age=None if face.age is None else round(float(face.age)),
        emotion=face.emotion,
        valence=None if face.valence is None else float(face.valence),
        arousal=None if face.arousal is None else float(face.arousal),
    )


# --------------------------------------------------------------------------- delete
# Thumbnails go with their rows, once the deletion has committed: cleanup.py's receivers see
# every deleted face, a cascade from its person included.


def delete_person(space: Space, person_id: int) -> bool:
    """Remove the person, its embeddings and thumbnails; False if there was no such person."""
    with transaction.atomic():
        locked = _lock_space(space)
        person = Person.objects.filter(space=locked, person_id=person_id).first()
        if person is None:
            return False
        person.delete()
        _bump(locked)
    return True


def delete_face(face: Face) -> None:
    """Remove one enrolled face (its embedding and thumbnail); the person stays."""
    with transaction.atomic():
        locked = _lock_space(face.space)
        Face.objects.filter(pk=face.pk).delete()
        _bump(locked)


def truncate(space: Space) -> None:
    """Empty the space: every person, embedding and thumbnail. The space itself stays."""
    with transaction.atomic():
        locked = _lock_space(space)
        faces, _ = Face.objects.filter(space=locked).delete()
        Person.objects.filter(space=locked).delete()
        _bump(locked)
    log.info("space %s truncated (%d faces)", space.uuid, faces)


def delete_space(space: Space) -> None:
    truncate(space)
    space.delete()
    face_index.forget(space.pk)


# --------------------------------------------------------------------------- helpers


def _lock_space(space: Space) -> Space:
    """The space row, locked until the transaction ends: one writer per space at a time."""
    return Space.objects.select_for_update().get(pk=space.pk)


def _bump(space: Space) -> None:
    Space.objects.filter(pk=space.pk).update(version=F("version") + 1)


def _store_face(
    space: Space, person: Person, face: engine.Face, image_name: str, stored: list[str]
) -> Face:
    left, top, right, bottom = (int(v) for v in face.box)
    row = Face(
        space=space,
        person=person,
        embedding=np.asarray(face.embedding, dtype="<f4").tobytes(),
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        image_name=(image_name or "")[:255],
    )
    row.thumbnail.save("face.jpg", ContentFile(_chip_jpeg(face.chip)), save=False)
    stored.append(row.thumbnail.name)
    row.save()
    return row


def _chip_jpeg(chip: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(
        ".jpg", cv2.cvtColor(np.ascontiguousarray(chip), cv2.COLOR_RGB2BGR),
        [cv2.IMWRITE_JPEG_QUALITY, 90],
    )
    if not ok:
        raise EnhancerError(EnhancerError.INTERNAL, gettext_noop("Could not encode the face thumbnail."))
    return buffer.tobytes()


@contextmanager
def _files_removed_on_error() -> Iterator[list[str]]:
    """Collects stored file names; if the block fails (rows rolled back) the files go too."""
    stored: list[str] = []
    try:
        yield stored
    except BaseException:
        _delete_files(stored)
        raise


def _delete_files(names: list[str]) -> None:
    for name in names:
        if name:
            default_storage.delete(name)
