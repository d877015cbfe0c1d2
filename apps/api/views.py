"""The native REST API: jobs (create, list, detail, delete, download)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, parsers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import ApiClient
from apps.common.files import private_file_response
from apps.common.images import validate_uploads
from apps.imaging.errors import EnhancerError
from apps.uploads import queue, services
from apps.uploads.files import output_filename
from apps.uploads.models import Job

from . import problems
from .models import IdempotentRequest, JobWebhook
from .serializers import (
    JobCreateSerializer,
    JobListSerializer,
    JobSerializer,
    PartialSerializer,
    ProblemSerializer,
)

PROBLEM = "application/problem+json"
PROBLEMS = {
    (code, PROBLEM): OpenApiResponse(ProblemSerializer, description=text)
    for code, text in {
        400: "Invalid request", 401: "Not authenticated", 403: "Forbidden",
        404: "Not found", 429: "Quota or rate limit reached",
    }.items()
}
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Repeat a creation safely: the same key (per client) returns the same jobs.",
)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=list(Job.Status.values)),
            OpenApiParameter("operation", str),
        ],
        responses={200: JobSerializer(many=True), **PROBLEMS},
    ),
    retrieve=extend_schema(responses={200: JobSerializer, **PROBLEMS}),
    destroy=extend_schema(responses={204: None, **PROBLEMS}),
    create=extend_schema(
        request={"multipart/form-data": JobCreateSerializer},
        parameters=[IDEMPOTENCY_KEY],
        responses={
            202: JobListSerializer, 200: JobListSerializer, **PROBLEMS,
            (207, PROBLEM): OpenApiResponse(
                PartialSerializer,
                description="Some files were refused: the jobs of the others, and why each refused one was",
            ),
            (413, PROBLEM): OpenApiResponse(ProblemSerializer, description="Image too large"),
            (422, PROBLEM): OpenApiResponse(ProblemSerializer, description="Cannot run here"),
        },
    ),
)
class JobViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = JobSerializer
    queryset = Job.objects.none()  # for the schema only; get_queryset scopes every request
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]
    lookup_field = "uuid"
    lookup_url_kwarg = "pk"

    def get_queryset(self):
        jobs = queue.with_queue(Job.objects.filter(owner=self.request.user)).prefetch_related("outputs")
        if self.action == "list":
            for field in ("status", "operation"):
                value = self.request.query_params.get(field)
                if value:
                    jobs = jobs.filter(**{field: value})
        return jobs

    def get_object(self) -> Job:
        try:
            return super().get_object()
        except DjangoValidationError:  # a malformed uuid is as unknown as a missing one
            raise Http404 from None

    def create(self, request: Request, *args, **kwargs) -> Response:
        form = JobCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        client = request.auth if isinstance(request.auth, ApiClient) else None
        key = request.headers.get("Idempotency-Key", "").strip()[:255]
        if client and key:
            earlier = IdempotentRequest.objects.filter(client=client, key=key).first()
            if earlier:
                return self._jobs_response(earlier.job_uuids, status.HTTP_200_OK)
        # Every file is decoded and checked before anything is stored; a bad one is refused on
        # its own (reported by index and name) and the good ones still get their jobs.
        accepted, refused = validate_uploads(form.validated_data["files"])
        if not accepted:
            raise problems.FilesRefused(refused)
        images = [image for _index, image in accepted]
        data = form.validated_data
        remembered = None
        try:
            with transaction.atomic():
                if client and key:
                    # Inserted first: a concurrent twin waits on the unique key, then fails.
                    remembered = IdempotentRequest.objects.create(client=client, key=key)
                jobs = services.create_jobs(
                    request.user, images, data["operation"], data.get("params") or {},
                    Job.Source.API, api_client=client,
                )
                if remembered:
                    remembered.job_uuids = [str(job.uuid) for job in jobs]
                    remembered.save(update_fields=["job_uuids"])
                if data.get("webhook_url") and client:
                    JobWebhook.objects.bulk_create(
                        JobWebhook(job=job, client=client, url=data["webhook_url"]) for job in jobs
                    )
        except IntegrityError:
            earlier = get_object_or_404(IdempotentRequest, client=client, key=key)
            return self._jobs_response(earlier.job_uuids, status.HTTP_200_OK)
        except EnhancerError:
            # Publishing runs after the commit; when the queue refused, the jobs were withdrawn
            # and the key must not keep pointing at them: a retry with it has to run.
            if remembered is not None:
                IdempotentRequest.objects.filter(pk=remembered.pk).delete()
            raise
        uuids = [str(job.uuid) for job in jobs]
        if refused:
            # 207: the good files are jobs now, the rest were refused; one body says both.
            return problems.problem(
                status.HTTP_207_MULTI_STATUS, "files_refused", problems.refused_detail(len(jobs), refused),
                jobs=self._jobs_data(uuids), errors={"files": [item.as_dict() for item in refused]},
            )
        return self._jobs_response(uuids, status.HTTP_202_ACCEPTED)

    def _jobs_data(self, uuids: list[str]) -> list:
        jobs = {str(job.uuid): job for job in self.get_queryset().filter(uuid__in=uuids)}
        ordered = [jobs[uuid] for uuid in uuids if uuid in jobs]
        return JobSerializer(ordered, many=True, context=self.get_serializer_context()).data

    def _jobs_response(self, uuids: list[str], code: int) -> Response:
        return Response({"jobs": self._jobs_data(uuids)}, status=code)

    def perform_destroy(self, instance: Job) -> None:
        services.delete_job(instance)

    @extend_schema(
        responses={(200, "image/*"): OpenApiTypes.BINARY, **PROBLEMS},
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["get"], url_path=r"outputs/(?P<kind>[^/]+)", url_name="output")
    def output(self, request: Request, pk=None, kind: str = "") -> HttpResponseBase:
        job = self.get_object()
        output = get_object_or_404(job.outputs.select_related("job"), kind=kind)
        return private_file_response(output.file, output_filename(output))
