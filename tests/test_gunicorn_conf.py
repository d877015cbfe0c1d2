"""gunicorn.conf.py: threaded workers, a timeout above the compat wait, no credentials in logs."""

from __future__ import annotations

import datetime
import logging
import runpy

from gunicorn.config import Config

from tests.helpers import ROOT

SECRET = "s3cr3t-token-value"


def load(monkeypatch, **env: str) -> tuple[Config, dict]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    namespace = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    config = Config()
    for name, value in namespace.items():
        if name in config.settings:
            config.set(name, value)
    return config, namespace


def test_threaded_workers_outlast_the_compat_wait(monkeypatch):
    config, _ = load(monkeypatch, ENHANCER_COMPAT_WAIT_SECONDS="200", GUNICORN_THREADS="8")
    assert config.worker_class_str == "gthread"
    assert config.threads == 8
    assert config.timeout > 200


class _Response:
    status = "200 OK"
    sent = 123
    headers: list = []


def test_the_access_log_leaves_out_query_strings(monkeypatch):
    config, namespace = load(monkeypatch)
    logger = namespace["logger_class"](config)
    environ = {
        "REQUEST_METHOD": "POST", "RAW_URI": f"/rest/2.0/image-process/v1/dehaze?access_token={SECRET}",
        "PATH_INFO": "/rest/2.0/image-process/v1/dehaze", "QUERY_STRING": f"access_token={SECRET}",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://example.com/?oauth_token={SECRET}",
    }
    atoms = logger.atoms(_Response(), {}, environ, datetime.timedelta(milliseconds=12))
    # Wrapped as gunicorn's access() wraps them (header atoms such as the request id's).
    line = config.access_log_format % logger.atoms_wrapper_class(atoms)
    assert "/rest/2.0/image-process/v1/dehaze" in line
    assert SECRET not in line


def test_the_error_log_scrubs_query_strings(monkeypatch, caplog):
    config, namespace = load(monkeypatch)
    logger = namespace["logger_class"](config)
    logger.error_log.propagate = True
    with caplog.at_level(logging.ERROR, logger="gunicorn.error"):
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("Error handling request %s", f"/api/v1/photo/improve?oauth_token={SECRET}")
    assert "/api/v1/photo/improve" in caplog.text
    assert SECRET not in caplog.text
