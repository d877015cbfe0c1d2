from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from apps.common.files import private_file_response
from apps.common.images import image_limits
from apps.imaging import operations
from apps.imaging.errors import EnhancerError

from . import costs, missing_outputs, queue, services
from .error_text import error_text, unavailable_text
from .files import input_filename, output_filename
from .forms import UploadForm
from .models import Job
from .operation_text import describe_operations, duration_text, status_label, wait_text


def owned_job(request: HttpRequest, job_uuid) -> Job:
    """The job if it is the requester's; anyone else gets the same 404 as for a missing one."""
    return get_object_or_404(Job, uuid=job_uuid, owner=request.user)


@login_required
def new(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    # The page's script sends the form itself (to keep the chosen files when some are refused)
    # and asks for JSON; without the script the plain form post below does the same work.
    wants_json = "application/json" in request.headers.get("Accept", "")
    status_code = 200
    if request.method == "POST":
        jobs = None
        if form.is_valid():
            try:
                jobs = services.create_jobs(
                    request.user, form.cleaned_data["photos"], plans=form.cleaned_data["plans"]
                )
            except EnhancerError as error:
                # Queue or storage down (503, nothing stored), or a refusal at submission.
                form.add_error(None, error_text(error))
                status_code = 503 if error.temporary else 400
        if jobs:
            target = (
                reverse("history:detail", args=[jobs[0].uuid]) if len(jobs) == 1
                else reverse("history:list")
            )
            if form.refused:
                summary = batch_summary(len(jobs), len(form.refused))
                if wants_json:
                    # The page stays, so each left-out photo stays marked with its reason.
                    return JsonResponse(
                        {
                            "redirect": target, "jobs": [str(job.uuid) for job in jobs],
                            "files": {str(index): text for index, text in form.file_errors.items()},
                            "summary": summary,
                        }
                    )
                messages.warning(request, summary)
                for item in form.refused:
                    messages.warning(request, f"{item.name}: {form.file_errors[item.index]}")
            elif wants_json:
                return JsonResponse({"redirect": target, "jobs": [str(job.uuid) for job in jobs]})
            return redirect(target)
        if wants_json:
            return JsonResponse(
                {
                    "errors": {field: list(errors) for field, errors in form.errors.items()},
                    "files": {str(index): message for index, message in form.file_errors.items()},
                },
                status=max(status_code, 400),
            )
    unavailable = {
        name: unavailable_text(name) for name, reason in operations.availability().items() if reason
    }
    limits = image_limits()
    return render(
        request,
        "uploads/new.html",
        {
            "form": form,
            "operations": describe_operations(),
            "unavailable": unavailable,
            "partial": missing_outputs.operation_notes(),
            "upload_settings": {
                "maxBytes": limits.max_bytes,
                "maxPixels": limits.max_pixels,
                "minSide": limits.min_side,
                "maxFiles": settings.ENHANCER_MAX_FILES_PER_UPLOAD,
                "types": ["image/jpeg", "image/png", "image/bmp", "image/x-ms-bmp", "image/webp"],
                "extensions": ["jpg", "jpeg", "jpe", "png", "bmp", "webp"],
            },
        },
        status=status_code,
    )


def batch_summary(sent: int, refused: int) -> str:
    """What happened to a batch of which some photos were refused, in the page's language."""
    return " ".join(
        (
            ngettext("%(count)s photo was sent.", "%(count)s photos were sent.", sent) % {"count": sent},
            ngettext(
                "%(count)s was left out: it is marked with the reason.",
                "%(count)s were left out: each is marked with its reason.",
                refused,
            ) % {"count": refused},
        )
    )


@login_required
@require_GET
def estimate(request: HttpRequest) -> JsonResponse:
    """How long each operation should take for the photos the visitor has chosen, before they
    are sent: ``?sizes=1024x768,640x480`` (measured by the browser) plus the chosen parameters
    (each operation reads its own)."""
    sizes = _sizes(request.GET.get("sizes", ""))
    if sizes is None:
        return JsonResponse(
            {"error": _("sizes must be a list of WIDTHxHEIGHT within the pixel limit")}, status=400
        )
    answer = {}
    rows = {}
    for name, operation in operations.REGISTRY.items():
        chosen = {
            param.name: request.GET[param.name] for param in operation.params
            if request.GET.get(param.name)
        }
        try:
            params = services.validate_operation(name, chosen)
        except EnhancerError:
            continue
        seconds = sum(
            costs.plan(name, params, width, height, rows).estimate_seconds for width, height in sizes
        )
        answer[name] = {"seconds": round(seconds, 1), "text": duration_text(seconds) if sizes else ""}
    return JsonResponse({"operations": answer})


# "<digits>x<digits>", each side at most 9 digits (a pixel count beyond that overflows floats).
_SIZE = re.compile(r"([0-9]{1,9})x([0-9]{1,9})")


def _sizes(text: str) -> list[tuple[int, int]] | None:
    """The photo sizes of an estimate query, or None when one is not a size a photo can have."""
    sizes = []
    limit = image_limits().max_pixels
    for size in [part for part in text.split(",") if part][: settings.ENHANCER_MAX_FILES_PER_UPLOAD]:
        match = _SIZE.fullmatch(size.strip())
        if match is None:
            return None
        width, height = int(match[1]), int(match[2])
        if not (0 < width and 0 < height and width * height <= limit):
            return None
        sizes.append((width, height))
    return sizes


@login_required
@require_GET
def status(request: HttpRequest, job_uuid) -> JsonResponse:
    job = owned_job(request, job_uuid)
    return JsonResponse(_status(job, queue.Backlog()))


# Jobs one list page shows at most (history.views.PAGE_SIZE) with room to spare.
MAX_STATUSES = 50


@login_required
@require_GET
def statuses(request: HttpRequest) -> JsonResponse:
    """The status of several of the requester's jobs (``?ids=uuid,uuid``), read together: a
    list page polling each job apart could show two queued jobs both "next in line" for the
    second between the first one's poll and the other's."""
    wanted = []
    for text in request.GET.get("ids", "").split(",")[:MAX_STATUSES]:
        try:
            wanted.append(uuid.UUID(text.strip()))
        except ValueError:
            continue  # a stale or mangled id: the others still answer
    jobs = queue.with_queue(
        Job.objects.filter(owner=request.user, uuid__in=wanted)
    ).prefetch_related("outputs")
    backlog = queue.Backlog()
    return JsonResponse({"jobs": [_status(job, backlog) for job in jobs]})


def _status(job: Job, backlog: queue.Backlog) -> dict:
    return {
        "id": str(job.uuid),
        "status": job.status,
        "progress": job.progress,
        "error_code": job.error_code,
        "error_message": job.error_message,
        # The same, in the page's language, for the browser pages' live updates.
        "status_text": status_label(job.status, job.error_code),
        "error_text": error_text(job),
        "outputs": [output.kind for output in job.outputs.all()],
        "eta_seconds": queue.eta_seconds(job, backlog),
        "queue_position": queue.queue_position(job),
        # "about 2 min · 3rd in line", shown beside the progress bar.
        "eta_text": wait_text(job, backlog),
    }


@login_required
@require_GET
def input_file(request: HttpRequest, job_uuid) -> HttpResponseBase:
    job = owned_job(request, job_uuid)
    return private_file_response(job.input_file, input_filename(job), "download" in request.GET)


@login_required
@require_GET
def thumbnail(request: HttpRequest, job_uuid) -> HttpResponseBase:
    job = owned_job(request, job_uuid)
    return private_file_response(job.thumbnail, "thumbnail.jpg", False)


@login_required
@require_GET
def output_file(request: HttpRequest, job_uuid, kind: str) -> HttpResponseBase:
    job = owned_job(request, job_uuid)
    output = get_object_or_404(job.outputs.select_related("job"), kind=kind)
    return private_file_response(output.file, output_filename(output), "download" in request.GET)


@staff_member_required
# Staff status opens the admin site, not every user's photos: that takes the model's
# view permission, as the admin's own pages do.
@permission_required("uploads.view_job", raise_exception=True)
@require_GET
def admin_thumbnail(request: HttpRequest, job_uuid) -> HttpResponseBase:
    return private_file_response(get_object_or_404(Job, uuid=job_uuid).thumbnail, "thumbnail.jpg", False)
