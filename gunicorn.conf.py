"""Production web server settings (``gunicorn enhancer_site.wsgi:application -c gunicorn.conf.py``).

The VK / Baidu / Meitu endpoints are synchronous: one request may wait up to
``ENHANCER_COMPAT_WAIT_SECONDS`` for its job. With sync workers a few such calls took every
worker and the login page froze; gthread workers hold a waiting call in one thread while the
others keep serving. Calls that could not finish within the wait are answered at once
(apps/uploads/costs.py), so threads are held only by jobs that will finish.

Every value can be set from the environment (``GUNICORN_*``, ``PORT``); the defaults suit a
small machine.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile

from gunicorn.glogging import Logger

from apps.common import log_format, request_id


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{_int('PORT', 8000)}"
worker_class = "gthread"
# Processes for CPU: face analysis runs in the request and holds its process's GIL for about a
# second, so more processes (two per core) keep other requests from queueing behind it. Threads
# for requests that only wait (a compat call waiting for its job, a download).
workers = _int("GUNICORN_WORKERS", 2 * (os.cpu_count() or 1))
threads = _int("GUNICORN_THREADS", 8)
# Above the longest legitimate request, a compat call's wait, so no waiting call is killed.
timeout = _int("GUNICORN_TIMEOUT", int(_float("ENHANCER_COMPAT_WAIT_SECONDS", 120.0)) + 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Whole photos travel in request bodies; headers stay small.
limit_request_line = 8190

accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = os.environ.get("GUNICORN_ERRORLOG", "-")
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# %(U)s is the path without its query string: Baidu's access_token, VK's oauth_token and
# Meitu's api_key/api_secret travel in the query and must not land in the logs. No referer
# either (%(f)s), as it is a whole URL. %(M)s: milliseconds taken.
# rid: the request id the site answered with (X-Request-ID), found again in the worker's lines.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s" rid=%({x-request-id}o)s'

# Metrics of every web process (apps/common/metrics.py): prometheus-client's multiprocess
# mode, in a folder of this server's own — a new private temporary one unless
# PROMETHEUS_MULTIPROC_DIR names one, which is then emptied at start — so neither a second
# server on the host nor an earlier run is summed in. /metrics sums the files. Set here, before
# any worker imports prometheus_client (it reads the variable at import).
_OWN_METRICS_DIR = ""
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _OWN_METRICS_DIR = tempfile.mkdtemp(prefix="enhancer-metrics-web-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _OWN_METRICS_DIR


def on_starting(server) -> None:
    from apps.common.metrics import prepare_multiprocess_dir

    prepare_multiprocess_dir()


def on_exit(server) -> None:
    if _OWN_METRICS_DIR:
        shutil.rmtree(_OWN_METRICS_DIR, ignore_errors=True)


def child_exit(server, worker) -> None:
    # A dead worker's live gauges must leave the sums (its counters stay: they happened).
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


_QUERY = re.compile(r"\?\S*")


class QueryFreeLogger(Logger):
    """Gunicorn's logger, minus query strings: its error log quotes the request URI (query
    included) when a request fails, which would put the same credentials on disk."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        # ENHANCER_LOG_FORMAT=json: gunicorn's own lines are JSON objects like the site's.
        if log_format.json_wanted():
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(log_format.JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        # The access line is written after the response, outside the request: its request id
        # comes from the answer's header.
        sent = next((value for name, value in getattr(resp, "headers", None) or []
                     if name.lower() == "x-request-id"), "")
        with request_id.bound(sent):
            super().access(resp, req, environ, request_time)

    def _scrub(self, args: tuple) -> tuple:
        return tuple(_QUERY.sub("?…", arg) if isinstance(arg, str) else arg for arg in args)

    def error(self, msg, *args, **kwargs) -> None:
        super().error(msg, *self._scrub(args), **kwargs)

    def exception(self, msg, *args, **kwargs) -> None:
        super().exception(msg, *self._scrub(args), **kwargs)

    def warning(self, msg, *args, **kwargs) -> None:
        super().warning(msg, *self._scrub(args), **kwargs)


logger_class = QueryFreeLogger
