from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.imaging.errors import EnhancerError
from apps.uploads import services
from apps.uploads.models import Job
from apps.uploads.views import owned_job


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = Job.objects.filter(owner=request.user).prefetch_related("outputs")
    page = Paginator(jobs, 24).get_page(request.GET.get("page"))
    return render(request, "history/list.html", {"page": page})


@login_required
def job_detail(request: HttpRequest, job_uuid) -> HttpResponse:
    job = owned_job(request, job_uuid)
    return render(request, "history/detail.html", {"job": job, "outputs": list(job.outputs.all())})


@login_required
@require_POST
def job_delete(request: HttpRequest, job_uuid) -> HttpResponse:
    services.delete_job(owned_job(request, job_uuid))
    messages.success(request, "The job and its files were deleted.")
    return redirect("history:list")


@login_required
@require_POST
def job_rerun(request: HttpRequest, job_uuid) -> HttpResponse:
    try:
        job = services.rerun(owned_job(request, job_uuid))
    except EnhancerError as error:
        messages.error(request, error.message)
        return redirect("history:detail", job_uuid=job_uuid)
    return redirect("history:detail", job_uuid=job.uuid)
