from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from apps.imaging import operations

from . import services
from .files import input_filename, output_filename, private_file_response
from .forms import UploadForm
from .models import Job


def owned_job(request: HttpRequest, job_uuid) -> Job:
    """The job if it is the requester's; anyone else gets the same 404 as for a missing one."""
    return get_object_or_404(Job, uuid=job_uuid, owner=request.user)


@login_required
def new(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        jobs = services.create_jobs(
            request.user, form.cleaned_data["photos"], form.cleaned_data["operation"],
            form.cleaned_data["params"],
        )
        if len(jobs) == 1:
            return redirect("history:detail", job_uuid=jobs[0].uuid)
        return redirect("history:list")
    unavailable = {name: reason for name, reason in operations.availability().items() if reason}
    return render(request, "uploads/new.html", {"form": form, "unavailable": unavailable})


@login_required
@require_GET
def status(request: HttpRequest, job_uuid) -> JsonResponse:
    job = owned_job(request, job_uuid)
    return JsonResponse(
        {
            "id": str(job.uuid),
            "status": job.status,
            "progress": job.progress,
            "error_code": job.error_code,
            "error_message": job.error_message,
            "outputs": [output.kind for output in job.outputs.all()],
        }
    )


@login_required
@require_GET
def input_file(request: HttpRequest, job_uuid) -> FileResponse:
    job = owned_job(request, job_uuid)
    return private_file_response(job.input_file, input_filename(job), "download" in request.GET)


@login_required
@require_GET
def thumbnail(request: HttpRequest, job_uuid) -> FileResponse:
    job = owned_job(request, job_uuid)
    return private_file_response(job.thumbnail, "thumbnail.jpg", False)


@login_required
@require_GET
def output_file(request: HttpRequest, job_uuid, kind: str) -> FileResponse:
    job = owned_job(request, job_uuid)
    output = get_object_or_404(job.outputs.select_related("job"), kind=kind)
    return private_file_response(output.file, output_filename(output), "download" in request.GET)


@staff_member_required
@require_GET
def admin_thumbnail(request: HttpRequest, job_uuid) -> FileResponse:
    return private_file_response(get_object_or_404(Job, uuid=job_uuid).thumbnail, "thumbnail.jpg", False)
