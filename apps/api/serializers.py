from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.imaging import operations
from apps.uploads import queue
from apps.uploads.missing_outputs import missing_parts
from apps.uploads.models import Job, Output

from .outbound import OutboundError, check_url


class ProblemSerializer(serializers.Serializer):
    """RFC 7807 problem details (``application/problem+json``)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(required=False)


class OutputSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Output
        fields = ["kind", "format", "width", "height", "bytes", "url"]

    def get_url(self, output: Output) -> str:
        path = reverse("api:job-output", args=[output.job.uuid, output.kind])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class JobErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class MissingSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="e.g. colorize_unavailable")
    outputs = serializers.ListField(child=serializers.CharField(), help_text="outputs left out")
    message = serializers.CharField()


class InputSerializer(serializers.Serializer):
    name = serializers.CharField(source="input_name")
    format = serializers.CharField(source="input_format")
    width = serializers.IntegerField(source="input_width")
    height = serializers.IntegerField(source="input_height")
    bytes = serializers.IntegerField(source="input_bytes")


class JobSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uuid", read_only=True)
    input = InputSerializer(source="*", read_only=True)
    error = serializers.SerializerMethodField()
    missing = serializers.SerializerMethodField()
    eta_seconds = serializers.SerializerMethodField()
    queue_position = serializers.SerializerMethodField()
    outputs = OutputSerializer(many=True, read_only=True)
    url = serializers.HyperlinkedIdentityField(
        view_name="api:job-detail", lookup_field="uuid", lookup_url_kwarg="pk"
    )

    class Meta:
        model = Job
        fields = [
            "id", "url", "operation", "params", "status", "progress", "source", "input", "info",
            "error", "missing", "outputs", "created_at", "started_at", "finished_at",
            "cost_class", "estimate_seconds", "eta_seconds", "queue_position",
        ]
        read_only_fields = fields

    @extend_schema_field(JobErrorSerializer(allow_null=True))
    def get_error(self, job: Job) -> dict | None:
        if job.status != Job.Status.FAILED:
            return None
        return {"code": job.error_code, "message": job.error_message}

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_eta_seconds(self, job: Job) -> int | None:
        """Seconds until the job should be finished (queue ahead included); null once it is."""
        # One backlog per response: a page of jobs costs two queries, not two per job.
        backlog = self.context.setdefault("queue_backlog", queue.Backlog())
        return queue.eta_seconds(job, backlog)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_queue_position(self, job: Job) -> int | None:
        """1 for the next job of its queue (``cost_class``) to start; null unless queued."""
        return queue.queue_position(job)

    @extend_schema_field(MissingSerializer(many=True))
    def get_missing(self, job: Job) -> list[dict]:
        """Outputs a succeeded job left out, and why (a B/W ``improve`` without a colorizer)."""
        return [part.as_dict() for part in missing_parts(job)]


class NestingSafeJSONField(serializers.JSONField):
    """DRF's JSONField lets the parser's RecursionError on ``[[[[…]]]]`` escape as a 500."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except RecursionError:
            self.fail("invalid")


class OperationParamsField(NestingSafeJSONField):
    """An operation's parameters; the schema lists each operation's (params_schema.py)."""


class JobCreateSerializer(serializers.Serializer):
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), allow_empty=False,
        help_text="One or more images (JPEG, PNG, BMP, WebP); one job per file.",
    )
    operation = serializers.CharField(max_length=32)
    # Documented from the operations' declarations (params_schema.py).
    params = OperationParamsField(required=False)
    webhook_url = serializers.URLField(
        required=False, max_length=2000,
        help_text=(
            "Called (POST, JSON) when each job finishes, signed with X-Enhancer-Timestamp and "
            "X-Enhancer-Signature. Must be a public http(s) address."
        ),
    )

    def get_fields(self):
        fields = super().get_fields()
        # Read when asked, so the schema names what is registered now.
        fields["operation"].help_text = f"One of {', '.join(operations.REGISTRY)}."
        return fields

    def validate_params(self, value):
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise serializers.ValidationError("params must be a JSON object.")
        return value

    def validate_webhook_url(self, value: str) -> str:
        # Checked here for a clear 400, and again at each delivery (the DNS answer may change).
        try:
            check_url(value)
        except OutboundError as error:
            raise serializers.ValidationError(error.message) from None
        return value


class JobListSerializer(serializers.Serializer):
    jobs = JobSerializer(many=True)


class RefusedFileSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="the file's place among the request's files, from 0")
    name = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class RefusedFilesSerializer(serializers.Serializer):
    files = RefusedFileSerializer(many=True)


class PartialSerializer(ProblemSerializer):
    """207: the jobs made from the good files, and each refused file with its reason."""

    jobs = JobSerializer(many=True)
    errors = RefusedFilesSerializer()
