"""The Celery side of monitoring: worker heartbeats, the metrics endpoint of a worker, and the
request id on every log line a job's run writes.

Metrics of a worker: ``scripts/worker.sh`` gives each worker its own
``PROMETHEUS_MULTIPROC_DIR``; its main process empties it when it starts (:func:`_serve_metrics`)
and, when ``ENHANCER_METRICS_PORT`` is set, serves the sum of its children's values on that port
(``ENHANCER_METRICS_BIND``, default 127.0.0.1). A worker has no pages and no users, so the port
is meant for the private network Prometheus scrapes on; it is not published by compose.
"""

from __future__ import annotations

import logging
import os
import shutil
from contextvars import Token

from celery import current_app, signals

from apps.common import request_id

log = logging.getLogger(__name__)

_heartbeat = None
_request_tokens: dict[str, Token] = {}

JOB_TASK = "apps.uploads.tasks.process_job"


@signals.worker_init.connect(dispatch_uid="monitoring.serve_metrics")
def _serve_metrics(**_kwargs) -> None:
    from prometheus_client import start_http_server

    from apps.common import metrics

    metrics.prepare_multiprocess_dir()
    port = os.environ.get("ENHANCER_METRICS_PORT", "").strip()
    if port and port != "0":
        address = os.environ.get("ENHANCER_METRICS_BIND", "127.0.0.1")
        start_http_server(int(port), addr=address, registry=metrics.registry())
        log.info("worker metrics on %s:%s", address, port)


def _queues() -> list[str]:
    return sorted(current_app.amqp.queues.consume_from or current_app.amqp.queues)


def _start_heartbeat(node: str) -> None:
    global _heartbeat
    if _heartbeat is not None and _heartbeat.pid == os.getpid():
        return
    from .workers import WorkerHeartbeat

    _heartbeat = WorkerHeartbeat(node or "", _queues()).start()


@signals.worker_process_init.connect(dispatch_uid="monitoring.process_init")
def _process_init(sender=None, **_kwargs) -> None:
    # Prefork children (and the solo pool, in the main process): the processes that run jobs.
    _start_heartbeat(str(sender or ""))


@signals.worker_ready.connect(dispatch_uid="monitoring.worker_ready")
def _worker_ready(sender=None, **_kwargs) -> None:
    # The threads pool runs jobs in the main process and sends no worker_process_init.
    pool = getattr(sender, "pool", None)
    if pool is not None and "thread" in type(pool).__module__:
        _start_heartbeat(str(getattr(sender, "hostname", "")))


@signals.worker_shutdown.connect(dispatch_uid="monitoring.remove_metrics_dir")
def _remove_metrics_dir(**_kwargs) -> None:
    # The main process stops last: a folder scripts/worker.sh made for this worker goes with it.
    from apps.common import metrics

    if os.environ.get("ENHANCER_METRICS_DIR_TEMPORARY") == "1" and metrics.multiprocess_dir():
        shutil.rmtree(metrics.multiprocess_dir(), ignore_errors=True)


@signals.worker_process_shutdown.connect(dispatch_uid="monitoring.process_shutdown")
@signals.worker_shutdown.connect(dispatch_uid="monitoring.worker_shutdown")
def _stop_heartbeat(**_kwargs) -> None:
    global _heartbeat
    if _heartbeat is not None and _heartbeat.pid == os.getpid():
        _heartbeat.stop()
        _heartbeat = None


@signals.task_prerun.connect(dispatch_uid="monitoring.request_id_in")
def _bind_request_id(task_id=None, task=None, args=None, **_kwargs) -> None:
    """While a job runs, its log lines carry the request id of the request that made it."""
    if task is None or task.name != JOB_TASK or not args:
        return
    from apps.uploads.models import Job

    try:
        found = Job.objects.filter(id=args[0]).values_list("request_id", flat=True).first()
    except Exception:  # noqa: BLE001 - the job's own run reports a database problem
        return
    if found:
        _request_tokens[task_id] = request_id._current.set(found)


@signals.task_postrun.connect(dispatch_uid="monitoring.request_id_out")
def _unbind_request_id(task_id=None, **_kwargs) -> None:
    token = _request_tokens.pop(task_id, None)
    if token is not None:
        request_id._current.reset(token)
