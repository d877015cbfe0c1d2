"""X-Request-ID: kept when safe, made otherwise, returned, stored on jobs, written in log lines."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.common import log_format, request_id
from apps.uploads.models import Job
from tests.helpers import image_bytes

pytestmark = pytest.mark.django_db


def test_a_plain_incoming_id_is_kept_and_returned(client):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="lb-7f3a.42:edge-1")
    assert response["X-Request-ID"] == "lb-7f3a.42:edge-1"


@pytest.mark.parametrize("sent", [
    "abc\ninjected 2026-01-01 ERROR forged line",
    'quote" and space',
    "x" * 65,
    "ünïcode",
    "",
])
def test_an_unsafe_incoming_id_is_replaced_by_a_fresh_one(client, sent):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID=sent)
    returned = response["X-Request-ID"]
    assert returned != sent
    assert request_id.clean(returned) == returned and len(returned) == 32


def test_without_a_header_each_request_gets_its_own_id(client):
    first = client.get("/accounts/login/")["X-Request-ID"]
    second = client.get("/accounts/login/")["X-Request-ID"]
    assert first != second and request_id.clean(first) == first


def test_a_job_carries_the_id_of_the_request_that_made_it(alice_client, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("uploads:new"),
            {"photos": [SimpleUploadedFile("a.png", image_bytes(), "image/png")], "operation": "contrast"},
            HTTP_X_REQUEST_ID="trace-1234",
        )
    assert response.status_code == 302
    assert Job.objects.get(owner=alice).request_id == "trace-1234"


def test_a_job_made_outside_any_request_has_no_id(alice):
    from tests.uploads.factories import make_job

    assert make_job(alice).request_id == ""


def _record(message: str) -> logging.LogRecord:
    record = logging.LogRecord("apps.uploads.services", logging.INFO, __file__, 1, message, (), None)
    log_format.RequestIdFilter().filter(record)
    return record


def test_plain_lines_carry_the_request_id():
    formatter = logging.Formatter(log_format.PLAIN)
    with request_id.bound("trace-abc"):
        line = formatter.format(_record("job x succeeded"))
    assert "[trace-abc] job x succeeded" in line
    assert "[-] outside" in formatter.format(_record("outside"))


def test_json_lines_are_one_object_each_with_the_request_id(monkeypatch):
    monkeypatch.setenv("ENHANCER_LOG_FORMAT", "json")
    config = log_format.logging_config("INFO")
    assert config["formatters"]["default"] == {"()": "apps.common.log_format.JsonFormatter"}
    with request_id.bound("trace-json"):
        line = log_format.JsonFormatter().format(_record("two\nlines"))
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["request_id"] == "trace-json" and parsed["message"] == "two\nlines"
    assert parsed["level"] == "INFO" and parsed["logger"] == "apps.uploads.services"


def test_the_plain_format_is_the_default(monkeypatch):
    monkeypatch.delenv("ENHANCER_LOG_FORMAT", raising=False)
    assert log_format.logging_config("INFO")["formatters"]["default"] == {"format": log_format.PLAIN}


def test_the_access_log_line_carries_the_request_id(monkeypatch):
    import datetime

    from tests.test_gunicorn_conf import load

    config, namespace = load(monkeypatch)
    logger = namespace["logger_class"](config)

    class Answered:
        status, response_length, sent = "202 Accepted", 10, 10
        headers = [("X-Request-ID", "trace-777")]

    environ = {"REQUEST_METHOD": "POST", "RAW_URI": "/api/jobs/", "PATH_INFO": "/api/jobs/",
               "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1"}
    atoms = logger.atoms(Answered(), {}, environ, datetime.timedelta(milliseconds=5))
    assert (config.access_log_format % logger.atoms_wrapper_class(atoms)).endswith(" rid=trace-777")


def test_gunicorn_writes_json_lines_with_the_request_id_when_asked(monkeypatch, capsys):
    import datetime

    from tests.test_gunicorn_conf import load

    monkeypatch.setenv("ENHANCER_LOG_FORMAT", "json")
    config, namespace = load(monkeypatch)
    logger = namespace["logger_class"](config)

    class Answered:
        status, response_length, sent = "202 Accepted", 10, 10
        headers = [("X-Request-ID", "trace-888")]

    environ = {"REQUEST_METHOD": "POST", "RAW_URI": "/rest/x?access_token=secret-token",
               "PATH_INFO": "/rest/x", "QUERY_STRING": "access_token=secret-token",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1"}
    logger.access(Answered(), {}, environ, datetime.timedelta(milliseconds=5))
    logger.error("Error handling request %s", "/rest/x?access_token=secret-token")
    written = capsys.readouterr()
    lines = [json.loads(line) for line in (written.out + written.err).splitlines()]
    access = next(line for line in lines if line["logger"] == "gunicorn.access")
    assert access["request_id"] == "trace-888" and "POST /rest/x HTTP/1.1" in access["message"]
    assert any(line["logger"] == "gunicorn.error" for line in lines)
    assert "secret-token" not in json.dumps(lines)
