"""The monitoring of a production-like stack, end to end: gunicorn as the Dockerfile runs it
(two processes, prometheus-client's multiprocess mode), one light worker started by
scripts/worker.sh with its metrics port, real jobs through the REST API, the admin's
operations page, and the numbers read back from /metrics and the worker's port with the text
format parser — and by a real Prometheus when Debian's ``prometheus`` package is installed
(``apt-get install prometheus``; .ci/run installs it), which then scrapes both for a few
seconds and is asked through its query API.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sys
from pathlib import Path

import pytest
import requests
import yaml

from tests.hardening.production import collectstatic_step, dockerfile_cmd
from tests.hardening.test_production_smoke import Browser, Processes, production_env, run
from tests.helpers import free_port, image_bytes, wait_for

from .scrape import samples, value

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

TOKEN = "scrape-" + secrets.token_hex(8)
PROMETHEUS = shutil.which("prometheus")


@pytest.fixture
def stack(transactional_db, tmp_path, settings):
    env = production_env(tmp_path, Path(settings.MEDIA_ROOT))
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    worker_port = free_port()
    env.update(
        GUNICORN_WORKERS="2", ENHANCER_METRICS_PORT=str(worker_port),
        ENHANCER_METRICS_TOKEN=TOKEN,
        # Loopback may not read /metrics here: the token must be what opens it.
        ENHANCER_METRICS_ALLOWED_NETWORKS="192.0.2.0/24",
        ENHANCER_LOG_FORMAT="json", ENHANCER_JOB_HEARTBEAT_SECONDS="1",
    )
    step_env, collectstatic = collectstatic_step()
    run(collectstatic, {**env, **step_env, "ENHANCER_VAR_DIR": env["ENHANCER_VAR_DIR"],
                        "STATIC_ROOT": env["STATIC_ROOT"]})
    run([sys.executable, "manage.py", "migrate", "--noinput"], env)

    port = free_port()
    running = Processes(tmp_path)
    try:
        web_log = running.start("gunicorn", [*dockerfile_cmd(), "--bind", f"127.0.0.1:{port}"], env)
        worker_log = running.start("worker-light", [
            "bash", "scripts/worker.sh", "light", "--without-gossip", "--without-mingle",
            "-n", f"monitoring-light-{os.getpid()}@%h",
        ], env)
        base = f"http://127.0.0.1:{port}"

        def serving() -> bool:
            running.alive()
            try:
                return requests.get(base + "/accounts/login/", timeout=30).status_code == 200
            except (requests.ConnectionError, requests.Timeout):
                return False

        wait_for(serving, timeout=90)
        wait_for(lambda: running.alive() or "ready." in worker_log.read_text(), timeout=120)
        yield base, f"http://127.0.0.1:{worker_port}", running, web_log, worker_log
    finally:
        running.stop()


def _scrape(url: str, **headers) -> dict:
    response = requests.get(url, headers=headers, timeout=30)
    assert response.status_code == 200, response.text[:500]
    return samples(response.text)


def test_metrics_the_operations_page_and_request_ids_follow_real_jobs(stack, django_user_model):
    base, worker_metrics, running, web_log, worker_log = stack
    try:
        _run(base, worker_metrics, running, web_log, worker_log, django_user_model)
    except AssertionError as failure:
        raise AssertionError(f"{failure}\n{running.logs()}") from None


def _run(base, worker_metrics, running, web_log, worker_log, django_user_model):
    from apps.accounts.models import ApiClient

    # Anonymous (and from loopback, which this stack does not allow) is told nothing.
    assert requests.get(base + "/metrics", timeout=30).status_code == 404
    bearer = {"Authorization": f"Bearer {TOKEN}"}

    user = django_user_model.objects.create_user("partner", password="a-long-partner-pass-1")
    token = ApiClient.issue(user, "monitoring", daily_quota=0, rate_limit_per_minute=0)[1]["token"]
    auth = {"Authorization": f"Token {token}"}

    def submit(operation: str, size: tuple[int, int], rid: str) -> str:
        created = requests.post(
            base + "/api/jobs/", headers={**auth, "X-Request-ID": rid}, timeout=60,
            data={"operation": operation},
            files={"files": ("photo.jpg", image_bytes(*size, fmt="JPEG"), "image/jpeg")},
        )
        assert created.status_code == 202, created.text
        assert created.headers["X-Request-ID"] == rid
        return created.json()["jobs"][0]["id"]

    # A: long enough to be seen running; B and C wait behind it (one light process).
    job_a = submit("dehaze", (6000, 4000), "it-run-a")
    job_b = submit("dehaze", (320, 240), "it-queued-b")
    job_c = submit("contrast", (320, 240), "it-cancel-c")

    ops = Browser(base)
    # Hashed as production checks it (the test settings hash with MD5, which it does not take).
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    django_user_model.objects.create(
        username="ops", is_staff=True, is_superuser=True,
        password=hasher.encode("ops-password-1", hasher.salt(), iterations=1000),
    )
    login = ops.form_post("/admin/login/", {"username": "ops", "password": "ops-password-1",
                                            "next": "/admin/"})
    assert login.status_code == 302, login.text[:1000]

    def page_with_running_and_queued() -> str | None:
        running.alive()
        page = ops.request("GET", "/admin/operations/").text
        shows = (f'data-job="{job_a}" data-status="running"' in page
                 and f'data-job="{job_b}" data-status="queued"' in page)
        return page if shows else None

    page = wait_for(page_with_running_and_queued, timeout=120, interval=0.3)
    assert "it-run-a" in page  # the running job's request id
    assert re.search(r'data-worker="[^"]+"', page), "no worker row"
    assert f"dehaze {job_a}" in page, "the worker row does not name its current job"

    # The operator cancels C while it waits.
    cancelled = ops.form_post(f"/admin/operations/jobs/{job_c}/cancel/", {})
    assert cancelled.status_code == 302

    def status(job_id: str) -> str:
        return requests.get(f"{base}/api/jobs/{job_id}/", headers=auth, timeout=30).json()["status"]

    wait_for(lambda: running.alive() or (status(job_a), status(job_b)) == ("succeeded", "succeeded"),
             timeout=240, interval=0.5)
    detail = requests.get(f"{base}/api/jobs/{job_c}/", headers=auth, timeout=30).json()
    assert (detail["status"], detail["error"]["code"]) == ("failed", "cancelled"), detail

    # The web side: what was submitted and cancelled, from both gunicorn processes' files, and
    # the database's queues and workers.
    web = _scrape(base + "/metrics", **bearer)
    submitted = "enhancer_jobs_submitted_total"
    assert value(web, submitted, operation="dehaze", cost_class="light", surface="api") == 2
    assert value(web, submitted, operation="contrast", cost_class="light", surface="api") == 1
    assert value(web, "enhancer_jobs_failed_total", operation="contrast", code="cancelled") == 1
    assert value(web, "enhancer_http_requests_total", surface="api", method="POST", status="2xx") == 3
    assert value(web, "enhancer_queue_depth", queue="light") == 0
    assert value(web, "enhancer_workers_alive", queue="light") == 1
    assert value(web, "enhancer_workers_alive", queue="heavy") == 0
    assert value(web, "enhancer_cost_drift_ratio") > 0

    # The worker side: what ran, how long it waited and ran, and how far the estimates were.
    worker = _scrape(worker_metrics)
    assert value(worker, "enhancer_jobs_succeeded_total", operation="dehaze", surface="api") == 2
    assert value(worker, "enhancer_jobs_failed_total") == 0
    assert value(worker, "enhancer_job_run_seconds_count", operation="dehaze") == 2
    assert value(worker, "enhancer_job_run_seconds_sum", operation="dehaze") > 0
    assert value(worker, "enhancer_job_wait_seconds_count", cost_class="light") == 2
    assert value(worker, "enhancer_job_actual_to_estimate_ratio_count", operation="dehaze") == 2
    # B waited for all of A's run: its wait is in a bucket above the smallest.
    assert value(worker, "enhancer_job_wait_seconds_bucket", cost_class="light", le="0.1") < 2

    # The request id sent with A is on the worker's line for A.
    lines = [json.loads(line) for line in worker_log.read_text().splitlines() if line.startswith("{")]
    mine = [line for line in lines if line["request_id"] == "it-run-a"]
    assert any(f"job {job_a} succeeded" in line["message"] for line in mine), lines[-20:]
    assert not any(line["request_id"] == "it-run-a" and job_b in line["message"] for line in lines)
    # And on the access log's line for the request that made it (gunicorn's lines are JSON too).
    access = [json.loads(line) for line in web_log.read_text().splitlines() if line.startswith("{")]
    assert any(line["logger"] == "gunicorn.access" and line["request_id"] == "it-run-a"
               and re.search(r'"POST /api/jobs/ HTTP/1.1" 202 .* rid=it-run-a', line["message"])
               for line in access), access[-10:]

    if PROMETHEUS:
        _real_prometheus(base, worker_metrics, running)


def _real_prometheus(base: str, worker_metrics: str, running: Processes) -> None:
    folder = running.folder / "prometheus"
    folder.mkdir()
    (folder / "token").write_text(TOKEN)
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            {"job_name": "enhancer-web", "metrics_path": "/metrics",
             "authorization": {"type": "Bearer", "credentials_file": str(folder / "token")},
             "static_configs": [{"targets": [base.split("://")[1]]}]},
            {"job_name": "enhancer-worker",
             "static_configs": [{"targets": [worker_metrics.split("://")[1]]}]},
        ],
    }
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    running.start("prometheus", [
        PROMETHEUS, f"--config.file={folder / 'prometheus.yml'}",
        f"--storage.tsdb.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
    ], {})

    def query(expr: str) -> list:
        try:
            answer = requests.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": expr},
                                  timeout=10).json()
        except (requests.ConnectionError, ValueError):
            return []
        return answer["data"]["result"] if answer.get("status") == "success" else []

    def scraped() -> bool:
        running.alive()
        up = query('up{job=~"enhancer-.*"}')
        return len(up) == 2 and all(item["value"][1] == "1" for item in up)

    wait_for(scraped, timeout=90, interval=1)
    succeeded = query('sum(enhancer_jobs_succeeded_total{operation="dehaze"})')
    assert float(succeeded[0]["value"][1]) == 2
    depth = query('enhancer_queue_depth{queue="light"}')
    assert float(depth[0]["value"][1]) == 0
