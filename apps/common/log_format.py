"""Log lines that can be joined across processes: each carries the request id it was written
for (web request or job), and with ``ENHANCER_LOG_FORMAT=json`` each is one JSON object.

Lines hold what the code logs and nothing more: no request headers, bodies or query strings are
added here (the access log drops query strings itself, gunicorn.conf.py), so the credentials of
the Baidu / VK / Meitu protocols, which travel in query strings, stay out of the logs.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime

from . import request_id


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record ("-" outside a request or a job)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id.current() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, process, request_id,
    message, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "request_id": getattr(record, "request_id", None) or request_id.current() or None,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


PLAIN = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def json_wanted() -> bool:
    return os.environ.get("ENHANCER_LOG_FORMAT", "plain").strip().lower() == "json"


def logging_config(level: str) -> dict:
    """Django's LOGGING: one console handler, plain or JSON, with the request id filter."""
    formatter = (
        {"()": "apps.common.log_format.JsonFormatter"} if json_wanted() else {"format": PLAIN}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "apps.common.log_format.RequestIdFilter"}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }
