from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.uploads.models import Job, Output


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
    outputs = OutputSerializer(many=True, read_only=True)
    url = serializers.HyperlinkedIdentityField(
        view_name="api:job-detail", lookup_field="uuid", lookup_url_kwarg="pk"
    )

    class Meta:
        model = Job
        fields = [
            "id", "url", "operation", "params", "status", "progress", "source", "input", "info",
            "error", "outputs", "created_at", "started_at", "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(JobErrorSerializer(allow_null=True))
    def get_error(self, job: Job) -> dict | None:
        if job.status != Job.Status.FAILED:
            return None
        return {"code": job.error_code, "message": job.error_message}


class JobCreateSerializer(serializers.Serializer):
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), allow_empty=False,
        help_text="One or more images (JPEG, PNG, BMP, WebP); one job per file.",
    )
    operation = serializers.CharField(max_length=32, help_text="restore, colorize, improve, upscale, dehaze or contrast.")
    params = serializers.JSONField(
        required=False, help_text='Operation parameters as a JSON object, e.g. {"factor": 4}.'
    )
    webhook_url = serializers.URLField(
        required=False, max_length=2000,
        help_text="Called (POST, JSON, signed with X-Enhancer-Signature) when each job finishes.",
    )

    def validate_params(self, value):
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise serializers.ValidationError("params must be a JSON object.")
        return value

    def validate_webhook_url(self, value: str) -> str:
        if not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("Only http and https webhooks are supported.")
        return value


class JobListSerializer(serializers.Serializer):
    jobs = JobSerializer(many=True)
