"""What the web and worker processes count: Prometheus counters and histograms.

Why prometheus-client directly rather than django-prometheus: the numbers that matter here are
about jobs, queues and workers, not Django's views and database calls, and most are read from
the database at scrape time (``collector.py``); the few HTTP numbers need a surface label (web,
REST, VK, Baidu, Meitu) that a path prefix decides, which is a dozen lines of middleware here.
One small dependency instead of a second app with its own middleware, models hooks and
migrations of metric names.

Several processes: gunicorn runs several workers and Celery several children, each with its own
memory. With ``PROMETHEUS_MULTIPROC_DIR`` set, prometheus-client writes every process's values
to files in that folder and :func:`registry` sums them at scrape time. Each process group owns
its folder, emptied when it starts (gunicorn.conf.py ``on_starting``, the Celery worker's
``worker_init``); a gunicorn worker that exits is marked dead (``child_exit``) so its gauges go.
Without the variable (tests, ``runserver``) the values live in the process, as usual.

Labels are bounded: operations, cost classes, surfaces, error codes and statuses come from fixed
lists (anything else is counted as ``other``); never user ids, file names or job ids.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from apps.imaging.errors import EnhancerError
from apps.imaging.operation import NAMES as OPERATION_NAMES

SURFACES = ("web", "api", "vk", "baidu", "meitu", "admin", "monitoring", "static")
COST_CLASSES = ("light", "heavy")
# A partner's per-minute rate limit: refused like a spent quota, counted apart.
RATE_LIMITED = "rate_limited"
CODES = frozenset(
    value for name, value in vars(EnhancerError).items() if name.isupper() and isinstance(value, str)
) | {RATE_LIMITED}

# Seconds: light jobs take well under a second to a few seconds, heavy ones minutes.
_JOB_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600)
_HTTP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 120)
_RATIO_BUCKETS = (0.25, 0.5, 0.67, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 2, 4, 8)

JOBS_SUBMITTED = Counter(
    "enhancer_jobs_submitted_total", "Jobs stored and queued.",
    ["operation", "cost_class", "surface"],
)
JOBS_SUCCEEDED = Counter(
    "enhancer_jobs_succeeded_total", "Jobs that finished with their outputs stored.",
    ["operation", "cost_class", "surface"],
)
JOBS_FAILED = Counter(
    "enhancer_jobs_failed_total", "Jobs that failed (code: the EnhancerError code).",
    ["operation", "cost_class", "surface", "code"],
)
JOB_WAIT = Histogram(
    "enhancer_job_wait_seconds", "From submission to a worker taking the job.",
    ["cost_class"], buckets=_JOB_BUCKETS,
)
JOB_RUN = Histogram(
    "enhancer_job_run_seconds", "From a worker taking the job to its end (success or failure).",
    ["operation", "cost_class"], buckets=_JOB_BUCKETS,
)
JOB_TURNAROUND = Histogram(
    "enhancer_job_turnaround_seconds", "What the user waits: from submission to the job's end.",
    ["cost_class", "status"], buckets=_JOB_BUCKETS,
)
ESTIMATE_RATIO = Histogram(
    "enhancer_job_actual_to_estimate_ratio",
    "A succeeded job's run time divided by the cost model's estimate at submission.",
    ["operation", "cost_class"], buckets=_RATIO_BUCKETS,
)
REFUSED = Counter(
    "enhancer_submissions_refused_total",
    "Submissions refused before any job was stored: over the time limit, a compat call that "
    "could not finish in its wait, a spent quota, storage or queue unavailable.",
    ["surface", "code"],
)
COMPAT_TIMEOUTS = Counter(
    "enhancer_compat_timeouts_total",
    "Synchronous VK / Baidu / Meitu calls answered before their job finished.",
    ["surface"],
)
FACE_RECOGNITIONS = Counter(
    "enhancer_face_recognitions_total", "Face recognitions (outcome: ok or the error code).",
    ["surface", "outcome"],
)
FACE_RECOGNITION_SECONDS = Histogram(
    "enhancer_face_recognition_seconds", "Time of one face recognition (analysis and search).",
    ["surface"], buckets=_HTTP_BUCKETS,
)
HTTP_REQUESTS = Counter(
    "enhancer_http_requests_total", "HTTP requests answered (status: 2xx, 3xx, 4xx, 5xx).",
    ["surface", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "enhancer_http_request_seconds", "Time to answer an HTTP request.",
    ["surface"], buckets=_HTTP_BUCKETS,
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# The surface of the request being served, for counts made deep inside services.
_surface: ContextVar[str] = ContextVar("enhancer_surface", default="")


def _one_of(value: str, allowed) -> str:
    return value if value in allowed else "other"


def surface_of_path(path: str) -> str:
    """Which door a request came in by (apps/api/urls.py lays them out)."""
    if path.startswith("/api/v1/"):
        return "vk"
    if path.startswith(("/oauth/", "/rest/")):
        return "baidu"
    if path.startswith("/v1/"):
        return "meitu"
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    if path in ("/metrics", "/healthz"):
        return "monitoring"
    if path.startswith("/static/"):
        return "static"
    return "web"


def current_surface(default: str = "web") -> str:
    return _surface.get() or default


def _labels(job) -> dict[str, str]:
    return {
        "operation": _one_of(job.operation, OPERATION_NAMES),
        "cost_class": _one_of(job.cost_class, COST_CLASSES),
        "surface": _one_of(job.source, SURFACES),
    }


def job_submitted(job) -> None:
    JOBS_SUBMITTED.labels(**_labels(job)).inc()


def job_started(job) -> None:
    if job.started_at and job.created_at:
        wait = (job.started_at - job.created_at).total_seconds()
        JOB_WAIT.labels(_one_of(job.cost_class, COST_CLASSES)).observe(max(wait, 0.0))


def job_finished(job) -> None:
    """Counts a succeeded or failed job once (the ``job_finished`` signal fires once per job)."""
    labels = _labels(job)
    cost_class = labels["cost_class"]
    if job.status == "succeeded":
        JOBS_SUCCEEDED.labels(**labels).inc()
    else:
        JOBS_FAILED.labels(**labels, code=_one_of(job.error_code, CODES)).inc()
    if job.finished_at and job.created_at:
        turnaround = (job.finished_at - job.created_at).total_seconds()
        JOB_TURNAROUND.labels(cost_class, job.status).observe(max(turnaround, 0.0))
    run = job.duration
    if run is None:
        return  # failed before a worker took it (cancelled, or out of attempts)
    JOB_RUN.labels(labels["operation"], cost_class).observe(run)
    if job.status == "succeeded" and job.estimate_seconds > 0:
        ESTIMATE_RATIO.labels(labels["operation"], cost_class).observe(run / job.estimate_seconds)


def refused(code: str, surface: str | None = None) -> None:
    """A submission refused with the EnhancerError ``code`` (counted where it is decided)."""
    REFUSED.labels(_one_of(surface or current_surface(), SURFACES), _one_of(code, CODES)).inc()


def compat_timeout(surface: str) -> None:
    COMPAT_TIMEOUTS.labels(_one_of(surface, SURFACES)).inc()


def timed_recognition(function: Callable) -> Callable:
    """Counts and times each call of a face recognition function."""

    @wraps(function)
    def timed(*args, **kwargs):
        surface = _one_of(current_surface(), SURFACES)
        started = time.perf_counter()
        outcome = "error"
        try:
            result = function(*args, **kwargs)
            outcome = "ok"
            return result
        except EnhancerError as error:
            outcome = _one_of(error.code, CODES)
            raise
        finally:
            FACE_RECOGNITION_SECONDS.labels(surface).observe(time.perf_counter() - started)
            FACE_RECOGNITIONS.labels(surface, outcome).inc()

    return timed


class HttpMetricsMiddleware:
    """Counts and times every request by surface; sets the surface for counts made below."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        surface = surface_of_path(request.path)
        token = _surface.set(surface)
        started = time.perf_counter()
        status = "5xx"
        try:
            response = self.get_response(request)
            status = f"{response.status_code // 100}xx"
            return response
        finally:
            _surface.reset(token)
            HTTP_SECONDS.labels(surface).observe(time.perf_counter() - started)
            HTTP_REQUESTS.labels(surface, _one_of(request.method, _METHODS), status).inc()


# --- exposition -------------------------------------------------------------------------------


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def prepare_multiprocess_dir() -> None:
    """Empty the folder at the start of a process group: files of an earlier run would be
    summed into this one's counters (and their dead pids' gauges kept forever)."""
    folder = multiprocess_dir()
    if not folder:
        return
    os.makedirs(folder, mode=0o700, exist_ok=True)
    for name in os.listdir(folder):
        if name.endswith(".db"):
            os.remove(os.path.join(folder, name))


def registry(*extra) -> CollectorRegistry:
    """What a scrape shows: every process's values (multiprocess mode) or this one's, plus
    ``extra`` collectors (the database collector on the web side)."""
    if multiprocess_dir():
        scrape = CollectorRegistry()
        multiprocess.MultiProcessCollector(scrape)
    else:
        scrape = CollectorRegistry(auto_describe=True)
        for collector in (JOBS_SUBMITTED, JOBS_SUCCEEDED, JOBS_FAILED, JOB_WAIT, JOB_RUN,
                          JOB_TURNAROUND, ESTIMATE_RATIO, REFUSED, COMPAT_TIMEOUTS,
                          FACE_RECOGNITIONS, FACE_RECOGNITION_SECONDS, HTTP_REQUESTS,
                          HTTP_SECONDS):
            scrape.register(collector)
    for collector in extra:
        scrape.register(collector)
    return scrape


def exposition(*extra) -> bytes:
    return generate_latest(registry(*extra))

