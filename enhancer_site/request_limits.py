"""Request bodies are refused from their declared size, before Django reads or spools a byte;
photo bodies from visitors who are not signed in are not read at all.

Django's own caps act too late for this: a multipart body is streamed to temporary files while
it is parsed, so a 1.5 GB POST to any endpoint would fill the disk before a view could say no.
Here each path gets a cap for what it can legitimately carry — a photo endpoint its files, a
login form a few kilobytes — and a body above it is answered 413 at once, in the format of the
surface it was sent to (VK, Baidu, Meitu, problem JSON, or the web's error page).

A body sent without Content-Length (chunked) is refused with 411: Django's WSGI request reads
exactly Content-Length bytes, so such a body would otherwise be silently taken as empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve

MB = 1024 * 1024

# URL names whose requests carry photos as multipart files → how many photos each takes (None:
# ENHANCER_MAX_FILES_PER_UPLOAD), so each route's body cap fits what it accepts.
PHOTO_UPLOADS: dict[str, int | None] = {
    "uploads:new": None,
    "api:job-list": None,
    "api:space-enroll": 1,
    "api:space-recognize": 1,
    "face_registry:space_enroll": None,
    "face_registry:person_enroll": None,
    "face_registry:recognize": 1,
}


@dataclass(frozen=True)
class Refusal:
    status: int  # 411 or 413
    text: str


def photo_body_cap(files: int | None = None) -> int:
    # Every file at its own size limit, plus room for the form fields and multipart framing.
    count = settings.ENHANCER_MAX_FILES_PER_UPLOAD if files is None else files
    return settings.ENHANCER_MAX_UPLOAD_BYTES * count + MB


def body_cap(path: str) -> int:
    """The most bytes a request body to ``path`` may declare."""
    if path.startswith("/api/v1/"):  # VK: multipart with photos
        return photo_body_cap()
    if path.startswith("/rest/2.0/"):
        # Baidu: one base64 image (its 4 MB limit) in a urlencoded form, where "+", "/" and
        # "=" may each be sent as three characters.
        from apps.api.compat.baidu import MAX_BASE64_BYTES

        return 2 * MAX_BASE64_BYTES + 64 * 1024
    if path.startswith("/v1/"):  # Meitu: a JSON body with base64 images, read into memory
        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        match = resolve(path)
    except Resolver404:
        return settings.ENHANCER_MAX_FORM_BYTES
    if match.view_name in PHOTO_UPLOADS:
        return photo_body_cap(PHOTO_UPLOADS[match.view_name])
    return settings.ENHANCER_MAX_FORM_BYTES


def declared_length(request: HttpRequest) -> int | None:
    raw = request.META.get("CONTENT_LENGTH") or ""
    try:
        return max(int(raw), 0)
    except ValueError:
        return None


def refusal(request: HttpRequest) -> Refusal | None:
    length = declared_length(request)
    if length is None:
        if request.META.get("HTTP_TRANSFER_ENCODING"):
            return Refusal(411, "Send the request body with a Content-Length header.")
        return None  # no body at all
    cap = body_cap(request.path_info)
    if length > cap:
        return Refusal(413, f"The request body is {_size(length)}; this endpoint takes at most "
                            f"{_size(cap)}.")
    return None


def _size(count: int) -> str:
    return f"{count / MB:.1f} MB" if count >= MB else f"{max(count // 1024, 1)} KB"


def respond(request: HttpRequest, refused: Refusal) -> HttpResponse:
    """The refusal in the wire format of the surface the request was sent to."""
    path = request.path_info
    if path.startswith("/api/v1/"):
        from apps.api.compat.vk import envelope

        return envelope(refused.status, refused.text)
    if path.startswith("/rest/2.0/"):
        from apps.api.compat.baidu import error_response

        return error_response(216202)  # "image size error": what Baidu's SDK expects to see
    if path.startswith("/oauth/2.0/"):
        return JsonResponse({"error": "invalid_request", "error_description": refused.text},
                            status=refused.status)
    if path.startswith("/v1/"):
        from apps.api.compat.meitu import MeituError
        from apps.api.compat.meitu import error_response as meitu_error

        return meitu_error(MeituError(10000, "INVALID_PARAMETER", refused.text))
    if path.startswith("/api/"):
        from apps.api.problems import CONTENT_TYPE, problem_body

        code = "length_required" if refused.status == 411 else "request_too_large"
        return JsonResponse(problem_body(refused.status, code, refused.text),
                            status=refused.status, content_type=CONTENT_TYPE)
    return render(request, "request_refused.html", {"message": refused.text},
                  status=refused.status)


class RequestBodyLimitMiddleware:
    """First in MIDDLEWARE: nothing before it may touch ``request.POST`` or ``request.body``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        refused = refusal(request)
        if refused is not None:
            return respond(request, refused)
        return self.get_response(request)


class AnonymousPhotoMiddleware:
    """A photo body sent to a web page without a signed-in session is never read.

    Django's CSRF check parses a POST body (``request.POST``) before ``login_required`` runs,
    so an anonymous visitor with a self-made ``csrftoken`` cookie made the server spool a large
    multipart body to temporary files only to be sent to the login page. Every middleware's
    ``__call__`` runs before any ``process_view`` (where the CSRF check reads the body), so
    from here, after AuthenticationMiddleware, the visitor is sent to log in with the body
    unread. The API's photo routes need no help: DRF answers an unauthenticated call before
    it parses anything.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            try:
                name = resolve(request.path_info).view_name
            except Resolver404:
                name = ""
            # The session is looked up only for the routes that take photos.
            web_photos = name in PHOTO_UPLOADS and not name.startswith("api:")
            if web_photos and not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
        return self.get_response(request)


class DecodeBudgetMiddleware:
    """Each request may decode at most ``ENHANCER_DECODE_BUDGET_MB`` of pixels in all
    (apps.common.images.spend_decode_budget): a few small files that decode huge are refused
    from their headers before they cost seconds and hundreds of megabytes each."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from apps.common.images import decode_budget  # the engine, loaded once the apps are

        self.get_response = get_response
        self.budget = decode_budget

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with self.budget(settings.ENHANCER_DECODE_BUDGET_MB * MB):
            return self.get_response(request)
