"""Face-registry pages. Thin: parse, authorise (everything is looked up through the requester's
own spaces, so another owner's UUID is a 404), call services, render."""

from __future__ import annotations

import base64

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from apps.common.files import private_file_response
from apps.common.images import image_limits, read_upload
from apps.imaging import codec
from apps.imaging.errors import EnhancerError
from apps.uploads.error_text import error_text
from apps.uploads.operation_text import join_list

from . import services
from .forms import EnrollForm, PersonNameForm, RecognizeForm, SpaceForm
from .models import MAX_SPACES, Face, Person, Space

# How many thumbnails a person shows on the space page.
PREVIEW_FACES = 4
# The recognize page shows the photo at most this wide/high (boxes are scaled by the SVG).
PREVIEW_SIDE = 1024


def owned_space(request: HttpRequest, space_uuid) -> Space:
    return get_object_or_404(Space, uuid=space_uuid, owner=request.user)


def owned_person(request: HttpRequest, person_uuid) -> Person:
    return get_object_or_404(
        Person.objects.select_related("space"), uuid=person_uuid, space__owner=request.user
    )


def owned_face(request: HttpRequest, face_uuid) -> Face:
    return get_object_or_404(
        Face.objects.select_related("space", "person"), uuid=face_uuid, space__owner=request.user
    )


@login_required
def spaces(request: HttpRequest) -> HttpResponse:
    form = SpaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            space = services.create_space(request.user, form.cleaned_data["name"])
        except EnhancerError as error:
            form.add_error(None, error_text(error))
        else:
            return redirect("face_registry:space", space_uuid=space.uuid)
    rows = (
        Space.objects.filter(owner=request.user)
        .select_related("client")
        .annotate(person_count=Count("persons", distinct=True), face_count=Count("faces", distinct=True))
        .order_by("client_id", "number")
    )
    web = [space for space in rows if space.client_id is None]
    return render(
        request,
        "face_registry/spaces.html",
        {
            "web_spaces": web,
            "client_spaces": [space for space in rows if space.client_id is not None],
            "form": form,
            "can_create": len(web) < MAX_SPACES,
            "max_spaces": MAX_SPACES,
        },
    )


@login_required
def space_detail(request: HttpRequest, space_uuid) -> HttpResponse:
    space = owned_space(request, space_uuid)
    rename = SpaceForm(request.POST or None, initial={"name": space.name})
    if request.method == "POST" and rename.is_valid():
        services.rename_space(space, rename.cleaned_data["name"])
        return redirect("face_registry:space", space_uuid=space.uuid)
    persons = list(
        Person.objects.filter(space=space)
        .annotate(face_count=Count("faces"))
        .prefetch_related(Prefetch("faces", queryset=Face.objects.order_by("-created_at", "-id")))
    )
    for person in persons:
        person.preview_faces = list(person.faces.all())[:PREVIEW_FACES]
    return render(
        request,
        "face_registry/space.html",
        {
            "space": space,
            "persons": persons,
            "rename_form": rename,
            "enroll_form": EnrollForm(persons=persons),
            "recognize_form": RecognizeForm(),
        },
    )


@login_required
@require_POST
def space_enroll(request: HttpRequest, space_uuid) -> HttpResponse:
    space = owned_space(request, space_uuid)
    form = EnrollForm(request.POST, request.FILES, persons=Person.objects.filter(space=space))
    if not form.is_valid():
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect("face_registry:space", space_uuid=space.uuid)
    person_id = form.cleaned_data["person_id"]
    if person_id is None:
        person_id = services.next_person_id(space)
    enrolled = _enroll(request, space, person_id, form.cleaned_data["photos"])
    person = Person.objects.filter(space=space, person_id=person_id).first()
    if person is None:
        return redirect("face_registry:space", space_uuid=space.uuid)
    if form.cleaned_data["name"]:
        services.rename_person(person, form.cleaned_data["name"])
    if enrolled:
        messages.success(request, _added(enrolled, person))
    return redirect("face_registry:person", person_uuid=person.uuid)


def _added(enrolled: int, person: Person) -> str:
    return ngettext(
        "%(count)d face added to %(name)s.", "%(count)d faces added to %(name)s.", enrolled
    ) % {"count": enrolled, "name": person.title}


# What a visitor reads for each optional model this server lacks; why it lacks it (a model
# file, a setting) is the operator's, on /healthz and the admin pages.
NOT_MEASURED = {
    "sex": gettext_lazy("Sex and age are not measured on this server."),
    "emotion": gettext_lazy("Emotion, valence and arousal are not measured on this server."),
}


def missing_attribute_notes() -> list[str]:
    unavailable = services.attributes_unavailable()
    return [str(note) for name, note in NOT_MEASURED.items() if unavailable[name]]


def _enroll(request: HttpRequest, space: Space, person_id: int, photos) -> int:
    """set_face for each photo; per-photo errors become messages. Returns how many were added."""
    enrolled = 0
    for upload in photos:
        try:
            services.set_face(space, person_id, read_upload(upload), upload.name)
            enrolled += 1
        except EnhancerError as error:
            reason = error_text(error)
            if error.code == EnhancerError.NO_FACE:
                reason = _("no face found; a photo must show exactly one face")
            elif error.code == EnhancerError.TOO_MANY_FACES:
                reason = _("several faces found; a photo must show exactly one face")
            messages.error(request, f"{upload.name}: {reason}")
    return enrolled


@login_required
def space_recognize(request: HttpRequest, space_uuid) -> HttpResponse:
    space = owned_space(request, space_uuid)
    form = RecognizeForm(request.POST or None, request.FILES or None)
    context: dict = {"space": space, "form": form,
                     "missing_attributes": missing_attribute_notes()}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["photo"]
        try:
            data = read_upload(upload)
            result = services.recognize(space, data, upload.name, form.cleaned_data["create_new"])
            preview = codec.thumbnail(data, size=PREVIEW_SIDE, limits=image_limits())
        except EnhancerError as error:
            form.add_error("photo", error_text(error))
        else:
            persons = {
                person.person_id: person
                for person in Person.objects.filter(
                    space=space, person_id__in=[f.person_id for f in result.faces if f.person_id is not None]
                )
            }
            rows = [
                (face, persons.get(face.person_id), emotion_label(face.emotion)) for face in result.faces
            ]
            context.update(
                result=result,
                rows=rows,
                boxes=[_overlay_box(face, person, result.width, result.height) for face, person, _emotion in rows],
                photo_name=upload.name,
                preview=base64.b64encode(preview).decode("ascii"),
            )
    return render(request, "face_registry/recognize.html", context)


def _overlay_box(face: services.RecognizedFace, person: Person | None, width: int, height: int) -> dict:
    left, top, right, bottom = face.box
    # The name goes under the box, or over it when the box reaches the bottom of the photo, or
    # inside its top when it fills the photo (label.below / .above / .inside in the stylesheet).
    if bottom <= height * 0.85:
        place, anchor = "below", bottom
    elif top >= height * 0.15:
        place, anchor = "above", top
    else:
        place, anchor = "inside", max(top, 0)
    return {
        "x": left,
        "y": top,
        "width": right - left,
        "height": bottom - top,
        # Held by the box's left edge, or by its right edge on the right half of the photo, so
        # the label grows inwards and never off the picture.
        "side": (f"left: {max(left, 0) / width * 100:.2f}%" if left + right <= width
                 else f"right: {max(width - right, 0) / width * 100:.2f}%"),
        "top_percent": f"{anchor / height * 100:.2f}",
        "kind": f"{'known' if person else 'unknown'} {place}",
        "tag": face.tag,
        # An unknown face's tag is "undefined" (as VK answers); people read "unknown".
        "label": person.title if person else _("unknown"),
        "attributes": _attributes(face),
        "colour": "#2ecc71" if person else "#f39c12",
    }


# The emotion model's labels (apps/imaging/faces.py EMOTION_LABELS), as a visitor reads them.
EMOTIONS = {
    "angry": pgettext_lazy("emotion", "angry"),
    "disgust": pgettext_lazy("emotion", "disgusted"),
    "fear": pgettext_lazy("emotion", "afraid"),
    "happy": pgettext_lazy("emotion", "happy"),
    "sad": pgettext_lazy("emotion", "sad"),
    "surprise": pgettext_lazy("emotion", "surprised"),
    "neutral": pgettext_lazy("emotion", "neutral"),
}


def emotion_label(emotion: str | None) -> str:
    return str(EMOTIONS.get(emotion or "", emotion or ""))


def _attributes(face: services.RecognizedFace) -> str:
    """"female, 34 · happy": what the face's attributes say, for its label on the photo."""
    parts = []
    sex = {"male": _("male"), "female": _("female")}.get(face.sex or "", "")
    if sex:
        parts.append(sex)
    if face.age is not None:
        age = round(face.age)
        parts.append(ngettext("%(age)d year", "%(age)d years", age) % {"age": age})
    text = join_list(parts)
    if face.emotion:
        emotion = emotion_label(face.emotion)
        text = f"{text} · {emotion}" if text else emotion
    return text


@login_required
def space_truncate(request: HttpRequest, space_uuid) -> HttpResponse:
    space = owned_space(request, space_uuid)
    if request.method == "POST":
        services.truncate(space)
        messages.success(request, _("%(name)s is now empty.") % {"name": space.title})
        return redirect("face_registry:space", space_uuid=space.uuid)
    counts = {"persons": space.persons.count(), "faces": space.faces.count()}
    return render(request, "face_registry/truncate.html", {"space": space, **counts})


@login_required
def person_detail(request: HttpRequest, person_uuid) -> HttpResponse:
    person = owned_person(request, person_uuid)
    rename = PersonNameForm(request.POST or None, initial={"name": person.name})
    if request.method == "POST" and rename.is_valid():
        services.rename_person(person, rename.cleaned_data["name"])
        return redirect("face_registry:person", person_uuid=person.uuid)
    return render(
        request,
        "face_registry/person.html",
        {
            "person": person,
            "space": person.space,
            "faces": person.faces.all(),
            "rename_form": rename,
            "enroll_form": EnrollForm(with_person=False),
        },
    )


@login_required
@require_POST
def person_enroll(request: HttpRequest, person_uuid) -> HttpResponse:
    person = owned_person(request, person_uuid)
    form = EnrollForm(request.POST, request.FILES, with_person=False)
    if form.is_valid():
        enrolled = _enroll(request, person.space, person.person_id, form.cleaned_data["photos"])
        if enrolled:
            messages.success(request, _added(enrolled, person))
    else:
        for error in form.errors.values():
            messages.error(request, " ".join(error))
    return redirect("face_registry:person", person_uuid=person.uuid)


@login_required
@require_POST
def person_delete(request: HttpRequest, person_uuid) -> HttpResponse:
    person = owned_person(request, person_uuid)
    services.delete_person(person.space, person.person_id)
    messages.success(request, _("%(name)s was deleted with all their faces.") % {"name": person.title})
    return redirect("face_registry:space", space_uuid=person.space.uuid)


@login_required
@require_POST
def face_delete(request: HttpRequest, face_uuid) -> HttpResponse:
    face = owned_face(request, face_uuid)
    services.delete_face(face)
    messages.success(request, _("The face was deleted."))
    return redirect("face_registry:person", person_uuid=face.person.uuid)


def _thumbnail_response(face: Face) -> HttpResponseBase:
    return private_file_response(face.thumbnail, "face.jpg")


@login_required
@require_GET
def face_thumbnail(request: HttpRequest, face_uuid) -> HttpResponseBase:
    return _thumbnail_response(owned_face(request, face_uuid))


@staff_member_required
# Staff status opens the admin site, not every user's photos: that takes the model's
# view permission, as the admin's own pages do.
@permission_required("face_registry.view_face", raise_exception=True)
@require_GET
def admin_face_thumbnail(request: HttpRequest, face_uuid) -> HttpResponseBase:
    return _thumbnail_response(get_object_or_404(Face, uuid=face_uuid))
