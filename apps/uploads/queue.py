"""Queue position and ETA: how much work waits ahead of a job in its cost class's queue
(costs.py decides the class and the estimate), shared by that queue's workers."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Job


def concurrency(cost_class: str) -> int:
    return max(1, int(settings.ENHANCER_QUEUE_CONCURRENCY.get(cost_class, 1)))


def _remaining(estimate: float, progress: int, started_at) -> float:
    """Seconds a running job has left: the estimate less the time spent at first, the pace
    the bar has kept (elapsed x left / done) more and more as it fills, so the time left counts
    down with the clock and ends where the job's own speed puts it."""
    done = min(max(progress, 0), 99) / 100
    if not started_at:
        return estimate * (1 - done)
    elapsed = max((timezone.now() - started_at).total_seconds(), 0.0)
    by_estimate = max(estimate - elapsed, estimate * (1 - done) * 0.1)
    if done <= 0:
        return by_estimate
    by_pace = elapsed * (1 - done) / done
    return (1 - done) * by_estimate + done * by_pace


class Backlog:
    """Seconds of work per queue: queued estimates plus what running jobs have left.

    Computed once (two small queries) and shared by every job on a page.
    """

    def __init__(self) -> None:
        self._running: dict[str, float] | None = None
        self._queued: dict[str, float] | None = None

    def running(self, cost_class: str) -> float:
        if self._running is None:
            self._running = dict.fromkeys(Job.CostClass.values, 0.0)
            rows = Job.objects.filter(status=Job.Status.RUNNING).values_list(
                "cost_class", "estimate_seconds", "progress", "started_at"
            )
            for row_class, estimate, progress, started_at in rows:
                self._running[row_class] = self._running.get(row_class, 0.0) + _remaining(
                    estimate, progress, started_at
                )
        return self._running.get(cost_class, 0.0)

    def seconds(self, cost_class: str) -> float:
        if self._queued is None:
            self._queued = dict(
                Job.objects.filter(status=Job.Status.QUEUED)
                .values("cost_class")
                .annotate(total=Sum("estimate_seconds"))
                .values_list("cost_class", "total")
            )
        return (self._queued.get(cost_class) or 0.0) + self.running(cost_class)


def with_queue(jobs: QuerySet) -> QuerySet:
    """Annotate ``queue_ahead`` and ``queue_ahead_seconds``: the queued jobs of the same class
    that arrived before each job (one query for the whole page)."""
    ahead = Job.objects.filter(
        status=Job.Status.QUEUED, cost_class=OuterRef("cost_class"), id__lt=OuterRef("id")
    ).order_by().values("cost_class")
    return jobs.annotate(
        queue_ahead=Coalesce(Subquery(ahead.annotate(n=Count("id")).values("n")[:1]), Value(0)),
        queue_ahead_seconds=Coalesce(
            Subquery(ahead.annotate(s=Sum("estimate_seconds")).values("s")[:1]), Value(0.0)
        ),
    )


def _ahead(job: Job) -> tuple[int, float]:
    if hasattr(job, "queue_ahead"):
        return job.queue_ahead, job.queue_ahead_seconds
    annotated = with_queue(Job.objects.filter(id=job.id)).values_list(
        "queue_ahead", "queue_ahead_seconds"
    )
    job.queue_ahead, job.queue_ahead_seconds = annotated.first() or (0, 0.0)
    return job.queue_ahead, job.queue_ahead_seconds


def queue_position(job: Job) -> int | None:
    """1 for the next job its queue's workers will take; None unless the job is queued."""
    if job.status != Job.Status.QUEUED:
        return None
    return _ahead(job)[0] + 1


def eta_seconds(job: Job, backlog: Backlog | None = None) -> int | None:
    """Seconds until the job should be finished; None once it is."""
    if job.is_finished:
        return None
    if job.status == Job.Status.RUNNING:
        return max(1, round(_remaining(job.estimate_seconds, job.progress, job.started_at)))
    backlog = backlog or Backlog()
    ahead_seconds = _ahead(job)[1] + backlog.running(job.cost_class)
    return max(1, round(ahead_seconds / concurrency(job.cost_class) + job.estimate_seconds))
