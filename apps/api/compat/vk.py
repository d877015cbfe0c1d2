"""VK Cloud Vision, copied on the wire: ``/api/v1/photo/improve`` and ``/api/v1/persons/*``.

Every answer is the VK envelope ``{"status", "body", "htmlencoded": false, "last_modified": 0}``
and the HTTP status mirrors ``status``. Request-level problems (auth, meta, a missing or empty
file) answer with a text ``body``; problems of one image are that object's ``status`` 1
(permanent) or 2 (temporary) with an ``error`` text.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.accounts.models import ApiClient
from apps.common.images import ValidatedImage, read_upload, validate_image
from apps.face_registry import services as faces
from apps.imaging import codec
from apps.imaging.errors import EnhancerError, gettext_noop
from apps.imaging.picture import Picture
from apps.uploads import costs, services
from apps.uploads.missing_outputs import missing_parts
from apps.uploads.models import Job

from .. import access
from .common import Outcome, prepare, wait_all

T = TypeVar("T")
OK, PERMANENT, TEMPORARY = 0, 1, 2


class VkError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


def envelope(status: int, body) -> JsonResponse:
    return JsonResponse(
        {"status": status, "body": body, "htmlencoded": False, "last_modified": 0}, status=status
    )


def vk_endpoint(view):
    """Authenticate, count the request, parse ``meta``; render every VkError as the envelope."""

    @csrf_exempt
    @require_POST
    def wrapper(request: HttpRequest) -> JsonResponse:
        try:
            client = authenticate(request)
            try:
                access.take_request(client)
            except access.LimitExceeded as exceeded:
                text = "daily quota exceeded" if exceeded.kind == "daily" else "rate limit exceeded"
                raise VkError(429, text) from None
            return view(request, client, parse_meta(request))
        except VkError as error:
            return envelope(error.status, error.body)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def authenticate(request: HttpRequest) -> ApiClient:
    token = request.GET.get("oauth_token", "")
    provider = request.GET.get("oauth_provider", "")
    if not token:
        raise VkError(401, "empty oauth_token")
    if not provider:
        raise VkError(401, "empty oauth_provider")
    if provider != "mcs":
        raise VkError(401, f"unknown oauth_provider {provider}")
    client = access.by_token(token)
    if client is None:
        raise VkError(403, "invalid oauth_token")
    return client


# A meta names a few images and options; anything larger is not a meta (and a deeply nested
# one would exhaust the JSON parser's recursion).
MAX_META_BYTES = 64 * 1024


def parse_meta(request: HttpRequest) -> dict:
    try:
        raw = request.POST.get("meta")
        if raw is None and "meta" in request.FILES:
            upload = request.FILES["meta"]
            if upload.size > MAX_META_BYTES:
                raise VkError(400, f"could not parse meta: larger than {MAX_META_BYTES} bytes")
            raw = upload.read().decode("utf-8", "replace")
    except VkError:
        raise
    except Exception:  # malformed multipart, too many files, body too large
        raise VkError(400, "could not parse multipart form") from None
    if raw is None:
        raise VkError(400, "no meta has been provided")
    if len(raw.encode("utf-8", "replace")) > MAX_META_BYTES:
        raise VkError(400, f"could not parse meta: larger than {MAX_META_BYTES} bytes")
    try:
        meta = json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise VkError(400, f"could not parse meta: {error}") from None
    if not isinstance(meta, dict):
        raise VkError(400, "could not parse meta: meta must be a JSON object")
    return meta


def meta_images(meta: dict) -> list[dict]:
    images = meta.get("images")
    if not isinstance(images, list) or not images:
        raise VkError(400, "empty images")
    for entry in images:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
            raise VkError(400, "empty image name")
    names = [entry["name"] for entry in images]
    if len(set(names)) != len(names):
        raise VkError(400, "image names must be unique")
    if len(images) > settings.ENHANCER_MAX_FILES_PER_UPLOAD:
        raise VkError(400, f"too many images: at most {settings.ENHANCER_MAX_FILES_PER_UPLOAD}")
    return images


def read_image(request: HttpRequest, name: str) -> ValidatedImage:
    return _read(request, name, validate_image)


def read_face_photos(request: HttpRequest, entries: list[dict]) -> list[tuple[bytes | Picture, str]]:
    """persons/* photos with their file names, each refused with VK's words before any is used.

    A single photo (the usual request) is decoded once, here, and handed on decoded. Several
    are only checked here and decoded again in turn by the face service: holding them all
    decoded (float32, up to 600 MB each at the pixel limit) would cost far more than a decode.
    """
    if len(entries) == 1:
        return [_read(request, entries[0]["name"], lambda data, name: (faces.decode(data), name))]
    return [
        (image.data, image.name)
        for image in (read_image(request, entry["name"]) for entry in entries)
    ]


def _read(request: HttpRequest, name: str, take: Callable[[bytes, str], T]) -> T:
    upload = request.FILES.get(name)
    if upload is None:
        # The very words of VK's Go server (its multipart lookup error), as the spec shows.
        raise VkError(400, f"could not get image by name {name}: http: no such file")
    try:
        data = read_upload(upload)
        if not data:
            raise VkError(400, "empty image")
        return take(data, upload.name or name)
    except EnhancerError as error:
        if error.code == EnhancerError.EMPTY_IMAGE:
            raise VkError(400, "empty image") from None
        raise VkError(400, f"invalid image {name}: {error.message}") from None


# --- photo/improve ---------------------------------------------------------------------------

# Our output kind → VK field. The spec's table says ``colored``; its example says
# ``colorized``: we answer as the example does.
IMPROVE_FIELDS = {"improved": "improved", "colorized_improved": "colorized_improved",
                  "colored": "colorized"}


def _resolution_params(meta: dict) -> dict:
    rfactor = meta.get("rfactor")
    if isinstance(rfactor, bool) or rfactor not in (2, 4):
        raise VkError(400, "rfactor must be 2 or 4")
    # The table calls it ``ftype``, the examples ``rtype``: both are accepted.
    kind = meta.get("ftype", meta.get("rtype"))
    if kind not in ("art", "photo"):
        raise VkError(400, "ftype must be art or photo")
    return {"factor": rfactor, "kind": kind}


def _failed_object(name: str, error: EnhancerError) -> dict:
    status = TEMPORARY if error.temporary else PERMANENT
    return {"status": status, "error": error.message, "name": name}


def _outcome_object(name: str, outcome: Outcome, fields: dict[str, str], mode: str) -> dict:
    if outcome.timed_out:
        return {"status": TEMPORARY, "error": "timeout: the job is still running", "name": name}
    if not outcome.succeeded:
        status = TEMPORARY if outcome.temporary else PERMANENT
        return {"status": status, "error": outcome.job.error_message, "name": name}
    answer: dict = {"status": OK, "name": name}
    missing = missing_parts(outcome.job)
    if missing:
        # The parts that were made still come back; the object is not plain success because a
        # client must tell "no colour needed" from "colour unavailable". Permanent: asking
        # again gives the same answer until an admin installs the model.
        answer["status"] = PERMANENT
        answer["error"] = "; ".join(part.message for part in missing)
    for kind, field in fields.items():
        data = outcome.output(kind)
        if data is not None:
            # Every picture field is documented as "Jpeg picture" (see codec.as_jpeg).
            answer[field] = base64.b64encode(codec.as_jpeg(data)).decode()
    if mode == "improve":
        answer["bw"] = bool(outcome.job.info.get("bw", False))
    return answer


@vk_endpoint
def photo_improve(request: HttpRequest, client: ApiClient, meta: dict) -> JsonResponse:
    modes = meta.get("mode")
    if not isinstance(modes, list) or not modes:
        raise VkError(400, "empty mode")
    for mode in modes:
        if mode not in ("improve", "resolution"):
            raise VkError(400, f"unknown mode {mode}")
    modes = list(dict.fromkeys(modes))
    specs = {"improve": ("improve", {}, IMPROVE_FIELDS)}
    if "resolution" in modes:
        specs["resolution"] = ("upscale", _resolution_params(meta), {"resolved": "resolved"})
    entries = meta_images(meta)
    # Each image makes one job per mode. The spec states no number; the daily quota counts
    # every job, so a request cannot buy many for the price of one.
    count = len(entries) * len(modes)
    if count > settings.ENHANCER_VK_MAX_JOBS:
        raise VkError(400, f"too many jobs: {len(entries)} images × {len(modes)} modes; at most "
                           f"{settings.ENHANCER_VK_MAX_JOBS} per request")
    images = [read_image(request, entry["name"]) for entry in entries]

    # Every check that can refuse the request runs before the first job is stored.
    jobs: dict[str, list[Job]] = {}
    refused: dict[str, EnhancerError] = {}
    admitted: dict[str, list[costs.Plan]] = {}
    for mode in modes:
        operation, params, _fields = specs[mode]
        try:
            admitted[mode] = prepare(operation, params, images)
        except EnhancerError as error:
            refused[mode] = error
    # Every admitted mode's jobs are stored in one submission: counted against the quota,
    # queued, or refused (quota spent, queue or storage down) all together.
    plans = [plan for mode_plans in admitted.values() for plan in mode_plans]
    try:
        stored = services.create_jobs(client.owner, images * len(admitted), source=Job.Source.VK,
                                      api_client=client, plans=plans) if plans else []
    except EnhancerError as error:
        if error.code == EnhancerError.QUOTA_EXCEEDED:
            raise VkError(429, "daily quota exceeded") from None
        raise VkError(503 if error.temporary else 400, error.message) from None
    for position, mode in enumerate(admitted):
        jobs[mode] = stored[position * len(images):(position + 1) * len(images)]

    outcomes = wait_all([job for mode in modes for job in jobs.get(mode, [])])
    by_job = {outcome.job.id: outcome for outcome in outcomes}
    body: dict[str, list] = {}
    for mode in modes:
        fields = specs[mode][2]
        if mode in refused:
            body[mode] = [_failed_object(e["name"], refused[mode]) for e in entries]
        else:
            body[mode] = [
                _outcome_object(entry["name"], by_job[job.id], fields, mode)
                for entry, job in zip(entries, jobs[mode], strict=True)
            ]
    return envelope(200, body)


# --- persons/* -------------------------------------------------------------------------------


def _space(request_client: ApiClient, meta: dict):
    raw = meta.get("space")
    # VK's server parses ``space`` with Go's strconv.Atoi and quotes that error verbatim.
    text = "" if raw is None else str(raw)
    if isinstance(raw, bool) or not text.lstrip("+-").isdigit() or not text.isascii():
        raise VkError(400, f'wrong space param : strconv.Atoi: parsing "{text}": invalid syntax')
    try:
        return faces.get_space(request_client.owner, int(text), client=request_client)
    except EnhancerError as error:
        raise VkError(400, error.message) from None


def _person_id(entry: dict) -> int:
    """One rule for every bad ``person_id``, checked before any image is read: a request-level
    400, as VK answers its own meta validation errors. A missing or non-integer id gets VK's
    documented text; an integer outside what a person id can hold says the range."""
    person_id = entry.get("person_id")
    if isinstance(person_id, bool) or not isinstance(person_id, int):
        raise VkError(400, "no person_id has been provided")
    if not 0 <= person_id <= faces.MAX_PERSON_ID:
        raise VkError(400, f"person_id must be from 0 to {faces.MAX_PERSON_ID}")
    return person_id


@vk_endpoint
def persons_set(request: HttpRequest, client: ApiClient, meta: dict) -> JsonResponse:
    space = _space(client, meta)
    entries = meta_images(meta)
    person_ids = [_person_id(entry) for entry in entries]
    photos = read_face_photos(request, entries)
    objects = []
    for entry, person_id, (photo, filename) in zip(entries, person_ids, photos, strict=True):
        try:
            faces.set_face(space, person_id, photo, filename)
            objects.append({"status": OK, "name": entry["name"]})
        except EnhancerError as error:
            if error.code in (EnhancerError.NO_FACE, EnhancerError.TOO_MANY_FACES):
                # VK's wording for both; partners match on it.
                error = EnhancerError(error.code, gettext_noop("face set required only one face per image"))
            objects.append(_failed_object(entry["name"], error))
    return envelope(200, {"objects": objects})


# The keys of a VK person object, in order. The optional models' keys are left out when their
# model is not installed here: see faces.attributes_unavailable().
PERSON_FIELDS = (
    "tag", "coord", "aliases", "confidence", "similarity", "awesomeness", "sex", "age",
    "emotion", "valence", "arousal", "frontality", "visibility",
)


def person_fields() -> list[str]:
    """The keys every recognized person carries on this install."""
    missing = {name for name, reason in faces.attributes_unavailable().items() if reason}
    return [key for key in PERSON_FIELDS if key not in missing]


# FER's labels → the emotion names of VK's spec.
EMOTION_NAMES = {
    "angry": "Anger",
    "disgust": "Disgust",
    "fear": "Fear",
    "happy": "Happiness",
    "sad": "Sadness",
    "surprise": "Surprise",
    "neutral": "Neutral",
}


def _rounded(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def person_object(face: faces.RecognizedFace) -> dict:
    """VK's ``person`` for one recognized face, keys in PERSON_FIELDS order.

    VK's quirks live here: a face like nobody is ``undefined`` with similarity 1 (as VK's own
    example answers), values are rounded as in VK's examples, emotions carry the spec's names,
    and the optional models' keys are left out (never null) when their model is not installed.
    ``aliases_changed`` is not per person: VK documents it once per response.
    """
    answer = {
        "tag": face.tag,
        "coord": list(face.box),
        "aliases": face.aliases,
        "confidence": round(face.confidence, 5),
        "similarity": 1.0 if face.similarity is None else round(face.similarity, 4),
        "awesomeness": round(face.awesomeness, 4),
        "sex": face.sex,
        "age": face.age,
        "emotion": None if face.emotion is None else EMOTION_NAMES.get(face.emotion, face.emotion),
        "valence": _rounded(face.valence),
        "arousal": _rounded(face.arousal),
        "frontality": round(face.frontality, 4),
        "visibility": round(face.visibility, 4),
    }
    return {key: value for key, value in answer.items() if value is not None}


def recognize_object(name: str, result: faces.RecognizeResult) -> dict:
    """VK's per-image ``object``; a photo without faces has no ``persons`` key."""
    answer: dict = {"status": OK, "name": name}
    if result.faces:
        answer["persons"] = [person_object(face) for face in result.faces]
    return answer


@vk_endpoint
def persons_recognize(request: HttpRequest, client: ApiClient, meta: dict) -> JsonResponse:
    space = _space(client, meta)
    create_new = meta.get("create_new", False)
    if not isinstance(create_new, bool):
        raise VkError(400, "create_new must be a boolean")
    entries = meta_images(meta)
    photos = read_face_photos(request, entries)
    objects = []
    aliases_changed = False
    for entry, (photo, filename) in zip(entries, photos, strict=True):
        try:
            result = faces.recognize(space, photo, filename, create_new)
            objects.append(recognize_object(entry["name"], result))
            aliases_changed = aliases_changed or result.persons_created
        except EnhancerError as error:
            objects.append(_failed_object(entry["name"], error))
    # The response table lists ``aliases_changed`` beside ``objects`` (no example shows it, nor
    # any per-person flag): true when this request created persons.
    return envelope(200, {"objects": objects, "aliases_changed": aliases_changed})


@vk_endpoint
def persons_delete(request: HttpRequest, client: ApiClient, meta: dict) -> JsonResponse:
    space = _space(client, meta)
    entries = meta_images(meta)
    if request.FILES:
        # Delete takes no images. VK's own example sends one along with a valid person_id and
        # documents the answer "no person_id has been provided"; we answer that request alike.
        raise VkError(400, "no person_id has been provided")
    person_ids = [_person_id(entry) for entry in entries]
    for person_id in person_ids:
        faces.delete_person(space, person_id)
    return envelope(200, {"objects": [{"status": OK, "name": entry["name"]} for entry in entries]})


@vk_endpoint
def persons_truncate(request: HttpRequest, client: ApiClient, meta: dict) -> JsonResponse:
    faces.truncate(_space(client, meta))
    return envelope(200, {})
