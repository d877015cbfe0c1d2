from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from apps.common.files import private_file_response
from apps.imaging.errors import EnhancerError
from apps.uploads import missing_outputs, queue, services
from apps.uploads.error_text import error_text
from apps.uploads.models import Job, Output
from apps.uploads.operation_text import wait_text
from apps.uploads.views import owned_job

from . import archive, thumbnails
from .forms import HistoryFilterForm

PAGE_SIZE = 24


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    filters = HistoryFilterForm(request.GET)
    jobs = queue.with_queue(filters.filter(Job.objects.filter(owner=request.user)))
    # The count lets the list say "nothing was produced" beside a job that is done.
    jobs = jobs.annotate(has_outputs=Exists(Output.objects.filter(job=OuterRef("pk"))))
    page = Paginator(jobs, PAGE_SIZE).get_page(request.GET.get("page"))
    backlog = queue.Backlog()
    for job in page.object_list:
        job.eta_text = wait_text(job, backlog)
    # The filters travel with the page links, so "Older" stays within "failed upscales".
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "history/list.html",
        {"page": page, "filters": filters, "query": query.urlencode(), "filtered": bool(query)},
    )


@login_required
def job_detail(request: HttpRequest, job_uuid) -> HttpResponse:
    job = owned_job(request, job_uuid)
    job.eta_text = wait_text(job)
    return render(
        request,
        "history/detail.html",
        {"job": job, "outputs": list(job.outputs.all()), "missing": missing_outputs.missing_parts(job)},
    )


@login_required
@require_POST
def job_delete(request: HttpRequest, job_uuid) -> HttpResponse:
    services.delete_job(owned_job(request, job_uuid))
    messages.success(request, _("The job and its files were deleted."))
    return redirect("history:list")


@login_required
@require_POST
def bulk_delete(request: HttpRequest) -> HttpResponse:
    """Delete the chosen jobs; ids that are not the requester's are ignored, never revealed."""
    jobs = list(Job.objects.filter(owner=request.user, uuid__in=_uuids(request.POST.getlist("jobs"))))
    for job in jobs:
        services.delete_job(job)
    if jobs:
        messages.success(
            request,
            ngettext(
                "%(count)d job and its files were deleted.",
                "%(count)d jobs and their files were deleted.",
                len(jobs),
            )
            % {"count": len(jobs)},
        )
    else:
        messages.error(request, _("Choose the jobs to delete first."))
    return _back(request)


def _back(request: HttpRequest) -> HttpResponse:
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        return redirect(back)
    return redirect("history:list")


@login_required
@require_POST
def bulk_zip(request: HttpRequest) -> HttpResponseBase:
    """The results of the chosen jobs in one zip; ids that are not the requester's are ignored,
    never revealed (their names would show in the archive)."""
    jobs = list(
        Job.objects.filter(owner=request.user, uuid__in=_uuids(request.POST.getlist("jobs")))
        .filter(outputs__isnull=False)
        .distinct()
        .prefetch_related(Prefetch("outputs", queryset=Output.objects.order_by("id")))
    )
    if not jobs:
        messages.error(request, _("None of the chosen jobs has results to download."))
        return _back(request)
    name = archive.zip_filename(jobs[0]) if len(jobs) == 1 else f"enhancer-{len(jobs)}-jobs.zip"
    return FileResponse(
        archive.jobs_zip(jobs), as_attachment=True, filename=name, content_type="application/zip"
    )


def _uuids(values: list[str]) -> list[uuid.UUID]:
    valid = []
    for value in values:
        try:
            valid.append(uuid.UUID(value))
        except ValueError:
            continue
    return valid


@login_required
@require_GET
def job_zip(request: HttpRequest, job_uuid) -> FileResponse:
    job = owned_job(request, job_uuid)
    if not job.outputs.exists():
        raise Http404("This job has no results.")
    return FileResponse(
        archive.outputs_zip(job),
        as_attachment=True,
        filename=archive.zip_filename(job),
        content_type="application/zip",
    )


@login_required
@require_GET
def job_thumbnail(request: HttpRequest, job_uuid) -> HttpResponseBase:
    """The job's history tile: its result when it has one, else the photo as sent."""
    job = owned_job(request, job_uuid)
    name = thumbnails.result_thumbnail(job)
    field = FieldFile(job, Job._meta.get_field("thumbnail"), name) if name else job.thumbnail
    return private_file_response(field, "thumbnail.jpg", False)


@login_required
@require_POST
def job_rerun(request: HttpRequest, job_uuid) -> HttpResponse:
    try:
        job = services.rerun(owned_job(request, job_uuid))
    except EnhancerError as error:
        messages.error(request, error_text(error))
        return redirect("history:detail", job_uuid=job_uuid)
    return redirect("history:detail", job_uuid=job.uuid)
