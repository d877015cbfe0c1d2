"""Cloud credentials never reach a user or a log: an unreachable provider's error is told
without its URL's query string (Baidu client_secret, VK oauth_token, Meitu api_secret)."""

from __future__ import annotations

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps import providers
from apps.providers.baidu import BaiduProvider
from apps.providers.http import redact_url
from apps.providers.meitu import MeituProvider
from apps.providers.vk import VkProvider
from apps.uploads.models import Job
from tests.helpers import free_port, image_bytes

SECRETS = ("vk-oauth-SECRET-7f3a", "baidu-client-id-SECRET-91c", "baidu-client-SECRET-2b8e",
           "meitu-api-key-SECRET-5d0", "meitu-api-SECRET-c4e1")


def unreachable(name: str):
    url = f"http://127.0.0.1:{free_port()}"
    made = {
        "vk": lambda: VkProvider(url=url, token=SECRETS[0], retries=1, timeout=2),
        "baidu": lambda: BaiduProvider(url=url, api_key=SECRETS[1], secret_key=SECRETS[2],
                                       retries=1, timeout=2),
        "meitu": lambda: MeituProvider(url=url, api_key=SECRETS[3], api_secret=SECRETS[4],
                                       retries=1, timeout=2),
    }[name]()
    made.http.backoff = 0
    return made


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


@pytest.fixture
def cloud(monkeypatch, settings):
    """Every operation a test names runs on an unreachable cloud holding secret credentials."""

    def use(operation: str, name: str) -> None:
        monkeypatch.setitem(providers._instances, name, unreachable(name))
        settings.ENHANCER_PROVIDERS = {**settings.ENHANCER_PROVIDERS, operation: name}

    return use


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
@pytest.mark.parametrize(("operation", "name"), [("improve", "vk"), ("dehaze", "baidu"),
                                                 ("restore", "meitu")])
def test_an_unreachable_cloud_leaks_no_credentials(client, secrets, alice, cloud, caplog,
                                                   operation, name):
    cloud(operation, name)
    caplog.set_level(logging.DEBUG)
    upload = SimpleUploadedFile("photo.png", image_bytes(), "image/png")
    response = client.post("/api/jobs/", {"files": [upload], "operation": operation},
                           HTTP_AUTHORIZATION=f"Token {secrets['token']}")
    assert response.status_code == 202, response.content
    job = Job.objects.get(uuid=response.json()["jobs"][0]["id"])
    assert (job.status, job.error_code) == ("failed", "temporary")
    assert "is not answering (connection failed)" in job.error_message
    assert_no_secret(job.error_message)
    assert "?" not in job.error_message  # no query string of any kind

    detail = client.get(f"/api/jobs/{job.uuid}/", HTTP_AUTHORIZATION=f"Token {secrets['token']}")
    assert detail.json()["error"]["message"] == job.error_message
    assert_no_secret(detail.content.decode())
    client.force_login(alice)
    page = client.get(f"/history/{job.uuid}/")
    assert job.error_message in page.content.decode()
    assert_no_secret(page.content.decode())

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "failed (attempt 2)" in logged  # the retries were logged, without the query
    assert_no_secret(logged)
    assert "?" not in logged
    for secret in SECRETS:  # nor in tracebacks attached to a record
        assert secret not in caplog.text


@pytest.mark.usefixtures("inline_jobs", "stand_ins")
def test_the_vk_answer_carries_no_credentials(client, secrets, cloud, caplog):
    cloud("improve", "vk")
    response = client.post(
        f"/api/v1/photo/improve?oauth_token={secrets['token']}&oauth_provider=mcs",
        {"file": SimpleUploadedFile("file.jpg", image_bytes(fmt="JPEG")),
         "meta": '{"mode": ["improve"], "images": [{"name": "file"}]}'},
    )
    body = response.json()["body"]["improve"][0]
    assert body["status"] == 2 and "VK Cloud Vision is not answering" in body["error"]  # temporary
    assert_no_secret(response.content.decode())
    for secret in SECRETS:
        assert secret not in caplog.text


def test_a_redacted_url_keeps_only_scheme_host_and_path():
    assert redact_url("https://u:p@aip.example.com:8443/oauth/2.0/token?client_secret=x#f") == (
        "https://aip.example.com:8443/oauth/2.0/token")
    assert redact_url("http://[::1]:80/a?b") == "http://[::1]:80/a"
    assert redact_url("http://[::1/a") == "(an invalid URL)"


def test_make_runs_runserver_logs_no_query_strings(tmp_path):
    """``make run`` serves with runserver, whose request log quoted the whole request line."""
    import os
    import subprocess
    import sys
    import urllib.request

    from tests.helpers import ROOT, stop_process_group, wait_for

    port = free_port()
    log_path = tmp_path / "runserver.log"
    env = {**os.environ, "ENHANCER_VAR_DIR": str(tmp_path / "var"), "DJANGO_DEBUG": "true"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload",
             "--skip-checks"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}/v1/aiquality?api_key={SECRETS[3]}&api_secret={SECRETS[4]}"

        def logged_request() -> bool:
            try:
                urllib.request.urlopen(url, timeout=5)  # noqa: S310 - loopback test server
            except OSError:
                pass  # Meitu answers a GET with an error status; refused while starting
            return '"GET /v1/aiquality' in log_path.read_text()  # runserver's request line

        wait_for(logged_request, timeout=60, interval=0.5)
    finally:
        stop_process_group(server)
    text = log_path.read_text()
    assert '"GET /v1/aiquality?… HTTP/1.1"' in text  # the request was logged, without its query
    assert_no_secret(text)
