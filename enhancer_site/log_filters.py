"""Logging filters for what Django itself logs."""

from __future__ import annotations

import logging
import re

_QUERY = re.compile(r"\?\S*")


class QueryFreeFilter(logging.Filter):
    """Drops query strings from ``django.server`` records (``make run``'s runserver log).

    runserver logs each request line whole, and Meitu's ``api_key``/``api_secret``, Baidu's
    ``access_token`` and VK's ``oauth_token`` travel in the query: they must not reach a
    terminal or a log file. Gunicorn's access log leaves the query out already
    (gunicorn.conf.py).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _QUERY.sub("?…", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _QUERY.sub("?…", arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True
