"""/metrics: who may read it, and what the database collector and the counters say."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.common import metrics
from apps.imaging.errors import EnhancerError
from apps.monitoring.models import WorkerBeat
from apps.uploads import running as job_running
from apps.uploads.models import Job
from tests.uploads.factories import make_job

from .scrape import samples, value

pytestmark = pytest.mark.django_db

OUTSIDE = "203.0.113.9"


def test_an_anonymous_caller_from_outside_gets_404(client, settings):
    settings.ENHANCER_METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE).status_code == 404
    wrong = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 404


def test_staff_sessions_do_not_open_it_either(admin_client):
    assert admin_client.get("/metrics", REMOTE_ADDR=OUTSIDE).status_code == 404


def test_the_bearer_token_opens_it(client, settings):
    settings.ENHANCER_METRICS_TOKEN = "scrape-secret"
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer scrape-secret")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "enhancer_queue_depth" in response.content.decode()


def test_without_a_token_only_the_allowed_networks_may_scrape(client, settings):
    settings.ENHANCER_METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ").status_code == 404
    import ipaddress

    settings.ENHANCER_METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("203.0.113.0/24")]
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


def test_a_request_through_an_undeclared_proxy_needs_the_token(client, settings):
    # nginx on the same host passes every visitor on from 127.0.0.1.
    settings.ENHANCER_METRICS_TOKEN = "scrape-secret"
    settings.ENHANCER_TRUSTED_PROXIES = 0
    forwarded = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": OUTSIDE}
    assert client.get("/metrics", **forwarded).status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP=OUTSIDE).status_code == 404
    opened = client.get("/metrics", **forwarded, HTTP_AUTHORIZATION="Bearer scrape-secret")
    assert opened.status_code == 200
    # With the proxy declared, the client's own address decides.
    settings.ENHANCER_TRUSTED_PROXIES = 1
    assert client.get("/metrics", **forwarded).status_code == 404
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 200


def _scrape(client) -> dict:
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    return samples(response.content.decode())


def test_queues_and_workers_are_read_from_the_database(client, alice):
    before = _scrape(client)
    assert value(before, "enhancer_queue_depth", queue="light") == 0
    assert value(before, "enhancer_workers_alive", queue="heavy") == 0
    assert value(before, "enhancer_workers_alive", queue="webhooks") == 0
    waiting = make_job(alice, "contrast")
    Job.objects.filter(id=waiting.id).update(created_at=timezone.now() - timedelta(minutes=7))
    make_job(alice, "dehaze")
    running = make_job(alice, "contrast")
    Job.objects.filter(id=running.id).update(status=Job.Status.RUNNING, started_at=timezone.now(),
                                             worker="host:1")
    now = timezone.now()
    WorkerBeat.objects.create(name="host:1", node="light@host", queues="light", started_at=now, beat_at=now)
    WorkerBeat.objects.create(name="host:2", node="heavy@host", queues="heavy", started_at=now,
                              beat_at=now - timedelta(minutes=5))  # silent: dead
    WorkerBeat.objects.create(name="host:3", node="webhooks@host", queues="webhooks", started_at=now,
                              beat_at=now)
    after = _scrape(client)
    assert value(after, "enhancer_queue_depth", queue="light") == 2
    assert value(after, "enhancer_jobs_running", queue="light") == 1
    assert 7 * 60 <= value(after, "enhancer_queue_oldest_age_seconds", queue="light") < 8 * 60
    assert value(after, "enhancer_queue_oldest_age_seconds", queue="heavy") == 0
    assert value(after, "enhancer_queue_drain_seconds", queue="light") > 0
    assert value(after, "enhancer_workers_alive", queue="light") == 1
    assert value(after, "enhancer_workers_alive", queue="heavy") == 0
    assert value(after, "enhancer_workers_alive", queue="webhooks") == 1


def test_cost_drift_is_actual_over_estimate(client, alice):
    job = make_job(alice, "contrast")
    end = timezone.now()
    Job.objects.filter(id=job.id).update(
        status=Job.Status.SUCCEEDED, estimate_seconds=2.0,
        started_at=end - timedelta(seconds=6), finished_at=end,
    )
    from apps.uploads import costs

    costs.observe(job.id)
    found = _scrape(client)
    assert value(found, "enhancer_cost_drift_ratio", key=job.cost_key) == pytest.approx(3.0)


def _counter(name: str, **labels) -> float:
    return value(samples(metrics.exposition().decode()), name, **labels)


def test_counters_follow_submissions_and_endings(alice, django_capture_on_commit_callbacks):
    labels = {"operation": "contrast", "cost_class": "light", "surface": "web"}
    submitted = _counter("enhancer_jobs_submitted_total", **labels)
    with django_capture_on_commit_callbacks(execute=True):
        job = make_job(alice, "contrast")
    assert _counter("enhancer_jobs_submitted_total", **labels) == submitted + 1

    failed = _counter("enhancer_jobs_failed_total", **labels, code="timeout")
    Job.objects.filter(id=job.id).update(status=Job.Status.RUNNING, started_at=timezone.now())
    runs = _counter("enhancer_job_run_seconds_count", operation="contrast", cost_class="light")
    with django_capture_on_commit_callbacks(execute=True):
        job_running.fail(job.id, EnhancerError(EnhancerError.TIMEOUT, "too long"))
    assert _counter("enhancer_jobs_failed_total", **labels, code="timeout") == failed + 1
    assert _counter("enhancer_job_run_seconds_count", operation="contrast", cost_class="light") == runs + 1


def test_a_rolled_back_submission_is_not_counted(alice, settings, django_capture_on_commit_callbacks):
    settings.ENHANCER_WEB_DAILY_JOBS = 1
    labels = {"operation": "contrast", "cost_class": "light", "surface": "web"}
    with django_capture_on_commit_callbacks(execute=True):
        make_job(alice, "contrast")
    submitted = _counter("enhancer_jobs_submitted_total", **labels)
    refused = _counter("enhancer_submissions_refused_total", code="quota_exceeded")
    with pytest.raises(EnhancerError), django_capture_on_commit_callbacks(execute=True):
        make_job(alice, "contrast")
    assert _counter("enhancer_jobs_submitted_total", **labels) == submitted
    assert _counter("enhancer_submissions_refused_total", code="quota_exceeded") == refused + 1


def test_http_requests_are_counted_by_surface(client):
    before = _counter("enhancer_http_requests_total", surface="baidu")
    client.post("/rest/2.0/image-process/v1/dehaze?access_token=x", {})
    assert _counter("enhancer_http_requests_total", surface="baidu") == before + 1


def test_labels_stay_in_their_lists():
    class Stranger:
        operation, cost_class, source = "../../etc/passwd", "enormous", "user-42"
        error_code, status = "free text from somewhere", "failed"
        created_at = started_at = finished_at = None
        duration = None
        estimate_seconds = 0

    metrics.job_finished(Stranger())
    text = metrics.exposition().decode()
    assert "passwd" not in text and "user-42" not in text and "free text" not in text
    assert _counter("enhancer_jobs_failed_total", operation="other", cost_class="other",
                    surface="other", code="other") >= 1


def test_a_compat_call_answered_before_its_job_finished_is_counted(alice):
    from apps.api.compat.common import wait_all

    job = make_job(alice, "contrast")
    Job.objects.filter(id=job.id).update(source=Job.Source.BAIDU)
    job.refresh_from_db()
    before = _counter("enhancer_compat_timeouts_total", surface="baidu")
    (outcome,) = wait_all([job], timeout=0)
    assert outcome.timed_out
    assert _counter("enhancer_compat_timeouts_total", surface="baidu") == before + 1


def test_face_recognitions_are_counted_and_timed(alice):
    from apps.face_registry import services as faces
    from tests.helpers import image_bytes

    space = faces.create_space(alice)
    before = _counter("enhancer_face_recognitions_total", surface="web", outcome="ok")
    timed = _counter("enhancer_face_recognition_seconds_count", surface="web")
    result = faces.recognize(space, image_bytes(320, 240), "no-face.png", create_new=False)
    assert result.faces == []
    assert _counter("enhancer_face_recognitions_total", surface="web", outcome="ok") == before + 1
    assert _counter("enhancer_face_recognition_seconds_count", surface="web") == timed + 1
    failed = _counter("enhancer_face_recognitions_total", surface="web", outcome="not_an_image")
    with pytest.raises(EnhancerError):
        faces.recognize(space, b"not an image at all", "x.png", create_new=False)
    assert _counter("enhancer_face_recognitions_total", surface="web", outcome="not_an_image") == failed + 1
