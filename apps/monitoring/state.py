"""What the operations page and the metrics scrape both show, read from the database: queues,
workers, recent failures and how far the cost model's estimates are off.

Read at the moment of asking, so every web process (and every scrape) sees the same numbers
without sharing memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone

from apps.uploads import costs, queue
from apps.uploads.models import Job, OperationCost

from .models import WorkerBeat

# Failures listed per code on the page (the newest first).
FAILURES_SHOWN = 5
# How far back the drift of each cost row is measured.
DRIFT_WINDOW = timedelta(days=1)
DRIFT_MAX_JOBS = 5000


@dataclass
class QueueState:
    name: str
    depth: int = 0
    running: int = 0
    oldest_queued_at: datetime | None = None
    drain_seconds: float = 0.0
    workers_alive: int = 0

    @property
    def oldest_age_seconds(self) -> float:
        if self.oldest_queued_at is None:
            return 0.0
        return max((timezone.now() - self.oldest_queued_at).total_seconds(), 0.0)


@dataclass
class WorkerState:
    beat: WorkerBeat
    alive: bool
    job: Job | None = None

    @property
    def beat_age_seconds(self) -> float:
        return max((timezone.now() - self.beat.beat_at).total_seconds(), 0.0)


@dataclass
class FailureGroup:
    code: str
    count: int
    jobs: list[Job] = field(default_factory=list)


@dataclass
class CostDrift:
    row: OperationCost
    jobs: int
    ratio: float | None  # mean of actual / estimate over the window; None without jobs


def alive_since() -> datetime:
    return timezone.now() - timedelta(seconds=settings.ENHANCER_JOB_STALE_SECONDS)


def queues() -> list[QueueState]:
    states = {name: QueueState(name) for name in costs.QUEUES}
    waiting = (
        Job.objects.filter(status=Job.Status.QUEUED).values("cost_class")
        .annotate(n=Count("id"), oldest=Min("created_at")).order_by()
    )
    for row in waiting:
        state = states.setdefault(row["cost_class"], QueueState(row["cost_class"]))
        state.depth, state.oldest_queued_at = row["n"], row["oldest"]
    running = (
        Job.objects.filter(status=Job.Status.RUNNING).values("cost_class")
        .annotate(n=Count("id")).order_by()
    )
    for row in running:
        states.setdefault(row["cost_class"], QueueState(row["cost_class"])).running = row["n"]
    backlog = queue.Backlog()
    alive = [beat for beat in WorkerBeat.objects.filter(beat_at__gte=alive_since())]
    for state in states.values():
        state.workers_alive = sum(1 for beat in alive if beat.serves(state.name))
        state.drain_seconds = backlog.seconds(state.name) / queue.concurrency(state.name)
    return list(states.values())


def side_queues_alive() -> dict[str, int]:
    """Queues that carry no jobs (webhook deliveries: ``CELERY_TASK_ROUTES``) with their live
    worker processes: nothing waits in the job table for them, but a dead worker still
    leaves their work undone."""
    routed = {route.get("queue") for route in getattr(settings, "CELERY_TASK_ROUTES", {}).values()}
    names = sorted(name for name in routed if name and name not in costs.QUEUES)
    alive = list(WorkerBeat.objects.filter(beat_at__gte=alive_since()))
    return {name: sum(1 for beat in alive if beat.serves(name)) for name in names}


def workers() -> list[WorkerState]:
    since = alive_since()
    beats = list(WorkerBeat.objects.all())
    running = {
        job.worker: job
        for job in Job.objects.filter(status=Job.Status.RUNNING).select_related("owner")
    }
    return [WorkerState(beat, beat.beat_at >= since, running.get(beat.name)) for beat in beats]


def failures(hours: int = 24) -> list[FailureGroup]:
    since = timezone.now() - timedelta(hours=hours)
    failed = Job.objects.filter(status=Job.Status.FAILED, finished_at__gte=since)
    groups = [
        FailureGroup(row["error_code"] or "-", row["n"])
        for row in failed.values("error_code").annotate(n=Count("id")).order_by("-n", "error_code")
    ]
    for group in groups:
        code = "" if group.code == "-" else group.code
        group.jobs = list(failed.filter(error_code=code).order_by("-finished_at")[:FAILURES_SHOWN])
    return groups


def cost_drift() -> list[CostDrift]:
    """Each cost row with the mean actual/estimate of its succeeded jobs in the last day."""
    since = timezone.now() - DRIFT_WINDOW
    done = (
        Job.objects.filter(status=Job.Status.SUCCEEDED, finished_at__gte=since,
                           estimate_seconds__gt=0, started_at__isnull=False)
        .order_by("-finished_at")
        .values_list("cost_key", "estimate_seconds", "started_at", "finished_at")[:DRIFT_MAX_JOBS]
    )
    ratios: dict[str, list[float]] = {}
    for key, estimate, started, finished in done:
        ratios.setdefault(key, []).append((finished - started).total_seconds() / estimate)
    return [
        CostDrift(row, len(ratios.get(row.key, [])),
                  sum(ratios[row.key]) / len(ratios[row.key]) if row.key in ratios else None)
        for row in OperationCost.objects.all()
    ]
