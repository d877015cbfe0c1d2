from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


def _input_path(job: Job, filename: str) -> str:
    return f"jobs/{job.owner_id}/{job.uuid}/input.{job.input_format.lower() or 'bin'}"


def _output_path(output: Output, filename: str) -> str:
    return f"jobs/{output.job.owner_id}/{output.job.uuid}/{filename}"


def _thumbnail_path(job: Job, filename: str) -> str:
    return f"jobs/{job.owner_id}/{job.uuid}/thumbnail.jpg"


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class Source(models.TextChoices):
        WEB = "web"
        API = "api"
        VK = "vk"
        BAIDU = "baidu"
        MEITU = "meitu"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.WEB)
    # Set when a partner's request made the job; the job still belongs to the client's owner.
    api_client = models.ForeignKey(
        "api.ApiClient", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    operation = models.CharField(max_length=32)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    provider = models.CharField(max_length=32, blank=True)
    # Facts the operation reported (``bw`` flag, restore assessment, …).
    info = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    input_file = models.FileField(upload_to=_input_path, max_length=255)
    input_name = models.CharField(max_length=255, blank=True)
    input_format = models.CharField(max_length=8, blank=True)
    input_width = models.PositiveIntegerField(default=0)
    input_height = models.PositiveIntegerField(default=0)
    input_bytes = models.PositiveBigIntegerField(default=0)
    thumbnail = models.FileField(upload_to=_thumbnail_path, max_length=255, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The history page: one owner's jobs, newest first.
            models.Index(fields=["owner", "-created_at"], name="job_owner_recent_idx"),
            # The admin's and the health page's "what is waiting / running" filters.
            models.Index(fields=["status", "created_at"], name="job_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.uuid} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def duration(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class Output(models.Model):
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="outputs")
    kind = models.CharField(max_length=32)
    file = models.FileField(upload_to=_output_path, max_length=255)
    format = models.CharField(max_length=8)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # A retried task must not add a second "dehazed" to the same job.
            models.UniqueConstraint(fields=["job", "kind"], name="output_unique_kind_per_job"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.job.uuid}"
