from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from apps.common import request_id


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

    class CostClass(models.TextChoices):
        # Each class is also the name of its Celery queue (apps/uploads/costs.py decides).
        LIGHT = "light"
        HEAVY = "heavy"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.WEB)
    # Set when a partner's request made the job; the job still belongs to the client's owner.
    api_client = models.ForeignKey(
        "accounts.ApiClient", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    operation = models.CharField(max_length=32)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=64, blank=True)
    # English, as the APIs answer it; pages translate the template (the message id) filled
    # with its parameters (uploads/error_text.py). Rows older than the id have only the text.
    error_message = models.TextField(blank=True)
    error_message_id = models.TextField(blank=True)
    error_params = models.JSONField(default=dict, blank=True)
    provider = models.CharField(max_length=32, blank=True)
    # Facts the operation reported (``bw`` flag, restore assessment, …).
    info = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Who runs the job ("host:pid") and when it last said so (liveness.py): a job whose worker
    # is gone is taken over by a redelivery or the sweeper instead of staying running forever.
    worker = models.CharField(max_length=255, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cost_class = models.CharField(max_length=8, choices=CostClass.choices, default=CostClass.LIGHT)
    # The cost-model row this job is estimated by, and what it predicted at submission.
    cost_key = models.CharField(max_length=200, blank=True)
    estimate_seconds = models.FloatField(default=0.0)
    # The request that made the job (X-Request-ID, apps/common/request_id.py): the worker's
    # log lines for the job carry it too.
    request_id = models.CharField(max_length=64, blank=True, default=request_id.current)

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
            # Queue position and ETA: the queued (and running) jobs of one class, in arrival order.
            models.Index(fields=["cost_class", "status", "id"], name="job_queue_idx"),
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


class OperationCost(models.Model):
    """How long one kind of work takes here: ``overhead_seconds + seconds_per_megapixel * MP``.

    One row per cost key (operation, the path it takes, its parameters); created from the
    defaults in ``costs.py`` on first use, then set by ``manage.py calibrate_costs`` and moved
    by every successful job's observed duration, so all web processes share one estimate.
    """

    class Source(models.TextChoices):
        DEFAULT = "default"
        CALIBRATED = "calibrated"
        OBSERVED = "observed"

    key = models.CharField(max_length=200, unique=True)
    operation = models.CharField(max_length=32)
    seconds_per_megapixel = models.FloatField()
    overhead_seconds = models.FloatField()
    samples = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.DEFAULT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return f"{self.key}: {self.overhead_seconds:.1f} s + {self.seconds_per_megapixel:.2f} s/MP"

    def seconds(self, megapixels: float) -> float:
        return self.overhead_seconds + self.seconds_per_megapixel * megapixels


class WebUsage(models.Model):
    """Jobs a user started without an API client on one UTC day (``allowance.py``).

    A counter rather than a count of Job rows, so deleting jobs does not give the quota back.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="web_usage"
    )
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="web_usage_unique_day"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}: {self.count}"
