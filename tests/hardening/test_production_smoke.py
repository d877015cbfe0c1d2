"""Production, for real: DJANGO_DEBUG=false, the Dockerfile's own collectstatic and CMD
(gunicorn with gunicorn.conf.py), a Celery worker on compose's queues, and the configured
database and broker (PostgreSQL + Redis in CI; SQLite + the filesystem broker elsewhere).

The test plays the TLS-terminating proxy a deployment puts in front of gunicorn: browser
requests carry ``X-Forwarded-Proto: https``, so secure cookies, CSRF and HSTS behave as they
do behind it, while the loopback hop stays plain HTTP (``DJANGO_SECURE_SSL_REDIRECT=false``, as
compose sets it).
"""

from __future__ import annotations

import io
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from PIL import Image

from tests.hardening.production import collectstatic_step, compose_workers, dockerfile_cmd
from tests.helpers import ROOT, free_port, image_bytes, process_env, stop_process_groups, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def production_env(tmp: Path, media_root: Path) -> dict[str, str]:
    env = process_env(media_root)
    # The test process runs with the test settings; the site must not inherit any of that.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the browser tests set it
    env.update(
        DJANGO_SETTINGS_MODULE="enhancer_site.settings",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        ENHANCER_VAR_DIR=str(tmp / "var"),
        ENHANCER_BROKER_DIR=str(tmp / "broker"),
        # scripts/worker.sh: this virtualenv's Python, one process per queue on a small CI box.
        PY=sys.executable,
        ENHANCER_LIGHT_CONCURRENCY="1",
        ENHANCER_HEAVY_CONCURRENCY="1",
        ENHANCER_WEBHOOK_CONCURRENCY="2",
        STATIC_ROOT=str(tmp / "static"),
        PYTHONUNBUFFERED="1",
    )
    return env


def run(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


class Processes:
    """Background processes with their logs, stopped (whole process group) at teardown."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[tuple[subprocess.Popen, Path]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Path:
        log_path = self.folder / f"{name}.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append((process, log_path))
        return log_path

    def alive(self) -> None:
        for process, log_path in self.started:
            assert process.poll() is None, f"{process.args[:3]} exited:\n{log_path.read_text()[-3000:]}"

    def logs(self) -> str:
        return "\n".join(f"--- {path.name}\n{path.read_text()[-4000:]}" for _, path in self.started)

    def stop(self) -> None:
        stop_process_groups([process for process, _ in self.started])


class Browser:
    """requests, plus what a browser behind the TLS proxy does: keep its cookies (all Secure,
    which requests would not send over the loopback's plain HTTP) and send a same-origin Referer."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.origin = "https://" + base.split("://", 1)[1]
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {
            "X-Forwarded-Proto": "https",
            "Referer": self.origin + path,
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
            **kwargs.pop("headers", {}),
        }
        response = requests.request(
            method, self.base + path, headers=headers, allow_redirects=False, timeout=30, **kwargs
        )
        self.cookies.update({cookie.name: cookie.value for cookie in response.cookies})
        return response

    def form_post(self, path: str, data: dict) -> requests.Response:
        self.request("GET", path)
        return self.request("POST", path, data={**data, "csrfmiddlewaretoken": self.cookies["csrftoken"]})


@pytest.fixture
def production_site(transactional_db, tmp_path, settings):
    env = production_env(tmp_path, Path(settings.MEDIA_ROOT))
    step_env, collectstatic = collectstatic_step()
    # The Dockerfile's own build-time environment for the step; only the folders are ours.
    step_env = {**env, **step_env, "ENHANCER_VAR_DIR": env["ENHANCER_VAR_DIR"],
                "STATIC_ROOT": env["STATIC_ROOT"]}
    run(collectstatic, step_env)
    manifest = Path(env["STATIC_ROOT"]) / "staticfiles.json"
    assert manifest.exists(), "collectstatic as the Dockerfile runs it wrote no manifest"

    manage = [sys.executable, "manage.py"]
    # Checked as deployed behind TLS (the default SSL redirect on); only the loopback hop
    # below turns it off, as compose does for a plain-HTTP local run.
    deployed = {k: v for k, v in env.items() if k != "DJANGO_SECURE_SSL_REDIRECT"}
    deploy = run([*manage, "check", "--deploy", "--fail-level", "WARNING"], deployed)
    assert "no issues" in deploy, deploy
    run([*manage, "migrate", "--noinput"], env)

    port = free_port()
    processes = Processes(tmp_path)
    workers = compose_workers()
    assert workers, "docker-compose.yml starts no Celery worker"
    processes.start("gunicorn", [*dockerfile_cmd(), "--bind", f"127.0.0.1:{port}"], env)
    worker_logs = [
        processes.start(name, [*argv, "--without-gossip", "--without-mingle",
                               "-n", f"smoke-{name}-{os.getpid()}@%h"], env)
        for name, argv in workers.items()
    ]
    base = f"http://127.0.0.1:{port}"

    def serving() -> bool:
        processes.alive()
        try:
            return requests.get(base + "/accounts/login/", timeout=30).status_code > 0
        except (requests.ConnectionError, requests.Timeout):  # a cold worker on a busy box
            return False

    try:
        wait_for(serving, timeout=60)
        wait_for(lambda: processes.alive() or all("ready." in log.read_text() for log in worker_logs),
                 timeout=90)
        yield base, manifest, processes
    finally:
        processes.stop()


def test_the_production_setup_serves_pages_static_files_the_api_and_a_job(production_site, django_user_model):
    base, manifest, processes = production_site
    browser = Browser(base)
    try:
        # The landing page and the login page render (every template, every {% static %}).
        landing = browser.request("GET", "/")
        assert landing.status_code == 200, landing.text[:2000]
        login_page = browser.request("GET", "/accounts/login/")
        assert login_page.status_code == 200, login_page.text[:2000]
        assert login_page.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "Secure" in login_page.headers["Set-Cookie"]

        # Every static file they link is served under its hashed manifest name.
        linked = set(re.findall(r'(?:href|src)="(/static/[^"]+)"', landing.text + login_page.text))
        assert any(re.fullmatch(r"/static/css/site\.[0-9a-f]{12}\.css", url) for url in linked), linked
        hashed = manifest.read_text()
        for url in linked:
            assert re.search(r"\.[0-9a-f]{12}\.\w+$", url), f"{url} is not a hashed name"
            assert url.removeprefix("/static/") in hashed
            asset = requests.get(base + url, timeout=10)
            assert asset.status_code == 200 and "max-age" in asset.headers["Cache-Control"], url

        assert browser.request("GET", "/admin/login/").status_code == 200
        assert requests.get(base + "/api/schema/", timeout=30).status_code == 200
        assert browser.request("GET", "/api/docs/").status_code == 200

        # A visitor signs up (CSRF and secure session cookie through the proxy) and is in.
        signup = browser.form_post("/accounts/signup/", {
            "username": "smoke", "email": "smoke@example.com",
            "password1": "a-long-smoke-password-9", "password2": "a-long-smoke-password-9",
        })
        assert signup.status_code == 302, signup.text[:2000]
        assert browser.request("GET", "/upload/").status_code == 200
        assert browser.request("GET", "/history/").status_code == 200
        assert browser.request("GET", "/faces/").status_code == 200
        assert browser.request("GET", "/developer/").status_code == 200
        browser.request("POST", "/accounts/logout/",
                        data={"csrfmiddlewaretoken": browser.cookies["csrftoken"]})
        login = browser.form_post(
            "/accounts/login/", {"username": "smoke", "password": "a-long-smoke-password-9"}
        )
        assert login.status_code == 302 and "/accounts/login/" not in login.headers["Location"]

        # Health, with the worker up. (Staff, as an operator's monitor would ask.)
        staff = django_user_model.objects.create_user("ops", password="ops-password-1", is_staff=True)
        ops = Browser(base)
        ops.form_post("/accounts/login/", {"username": staff.username, "password": "ops-password-1"})
        health = wait_for(lambda: _healthy(ops), timeout=60)
        assert health["status"] == "ok"

        # A partner's token: a real dehaze job through the REST API, then its output.
        from apps.accounts.models import ApiClient

        user = django_user_model.objects.get(username="smoke")
        token = ApiClient.issue(user, "smoke", daily_quota=0, rate_limit_per_minute=0)[1]["token"]
        auth = {"Authorization": f"Token {token}"}
        created = requests.post(
            base + "/api/jobs/", headers=auth, timeout=60,
            data={"operation": "dehaze"},
            files={"files": ("hazy.png", image_bytes(320, 240), "image/png")},
        )
        assert created.status_code == 202, created.text
        job_url = created.json()["jobs"][0]["url"]
        assert job_url.startswith(base)

        def finished() -> dict | None:
            processes.alive()
            job = requests.get(job_url, headers=auth, timeout=10).json()
            return job if job["status"] in ("succeeded", "failed") else None

        job = wait_for(finished, timeout=120, interval=0.5)
        assert job["status"] == "succeeded", job
        (output,) = job["outputs"]
        download = requests.get(output["url"], headers=auth, timeout=30)
        assert download.status_code == 200
        assert Image.open(io.BytesIO(download.content)).size == (320, 240)
        # The same output is someone else's 404, and nobody's without credentials.
        assert requests.get(output["url"], timeout=10).status_code == 401
    except AssertionError as failure:
        raise AssertionError(f"{failure}\n{processes.logs()}") from None


def _healthy(browser: Browser) -> dict | None:
    response = browser.request("GET", "/healthz")
    assert response.status_code == 200, response.text[:2000]
    body = response.json()
    return body if body.get("status") == "ok" else None
