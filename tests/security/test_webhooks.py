"""Webhooks: checked URLs (no SSRF), delivered by their own task on their own queue, signed
with a timestamp, retried a bounded number of times, and sent once per job."""

from __future__ import annotations

import json
import time

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.api import tasks
from apps.api.models import JobWebhook
from apps.api.webhooks import REPLAY_WINDOW_SECONDS, sign, verify
from apps.uploads.models import Job
from apps.uploads.signals import job_finished
from apps.uploads.tasks import process_job
from tests.helpers import image_bytes

from .receivers import Receiver


def create(client, secrets, webhook_url: str):
    upload = SimpleUploadedFile("photo.png", image_bytes(), "image/png")
    return client.post("/api/jobs/", {"files": [upload], "operation": "contrast",
                                      "webhook_url": webhook_url},
                       HTTP_AUTHORIZATION=f"Token {secrets['token']}")


@pytest.fixture
def receiver():
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def loopback_allowed(settings):
    """Tests deliver to a receiver on loopback, which production refuses."""
    settings.ENHANCER_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", [
    "http://127.0.0.1:6379/", "http://169.254.169.254/latest/meta-data/", "http://localhost:5432/",
    "http://10.0.0.5/hook", "http://[::1]/", "http://[::ffff:7f00:1]/", "gopher://example.com/",
])
def test_an_internal_webhook_url_is_a_400_problem_and_nothing_is_stored(client, secrets, url):
    response = create(client, secrets, url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "webhook_url" in response.json()["errors"]
    assert not Job.objects.exists() and not JobWebhook.objects.exists()


@pytest.mark.django_db
def test_delivery_checks_the_address_again(client, secrets, receiver, loopback_allowed, settings,
                                           django_capture_on_commit_callbacks):
    response = create(client, secrets, f"{receiver.url}/hook")
    assert response.status_code == 202
    settings.ENHANCER_OUTBOUND_ALLOWED_NETWORKS = []  # e.g. the name now resolves inside
    hook = JobWebhook.objects.get()
    assert tasks.deliver_webhook.apply(args=[hook.id]).get() .startswith("refused")
    hook.refresh_from_db()
    assert receiver.calls == [] and hook.delivered_at is None
    assert hook.attempts == 1  # refused for good: no retries
    assert hook.last_status.startswith("refused: The host 127.0.0.1 is not a public")


@pytest.mark.django_db
def test_the_job_task_only_queues_the_webhook_on_its_own_queue(
        client, secrets, receiver, loopback_allowed, monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(tasks.deliver_webhook, "apply_async",
                        lambda args=None, kwargs=None, queue=None: queued.append((list(args), queue)))
    create(client, secrets, f"{receiver.url}/hook")
    job = Job.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        process_job.apply(args=[job.id])
    job.refresh_from_db()
    assert job.status == "succeeded"
    hook = JobWebhook.objects.get()
    assert queued == [([hook.id], "webhooks")]
    assert receiver.calls == []  # the job's worker made no network call
    # Announcing the job again (a redelivered message) queues nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        job_finished.send(sender=Job, job_id=job.id)
    assert len(queued) == 1

    assert tasks.deliver_webhook.apply(args=[hook.id]).get() == "204"
    (call,) = receiver.calls
    secret = secrets["webhook_secret"]
    timestamp = call.headers["X-Enhancer-Timestamp"]
    assert abs(int(timestamp) - time.time()) < REPLAY_WINDOW_SECONDS
    assert call.headers["X-Enhancer-Signature"] == sign(secret, timestamp, call.body)
    assert verify(secret, timestamp, call.body, call.headers["X-Enhancer-Signature"])
    body = json.loads(call.body)
    assert (body["id"], body["status"], body["outputs"]) == (str(job.uuid), "succeeded", ["contrasted"])
    hook.refresh_from_db()
    assert hook.delivered_at is not None and hook.last_status == "204"
    assert tasks.deliver_webhook.apply(args=[hook.id]).get() == "nothing to do"
    assert len(receiver.calls) == 1


def test_a_replayed_or_altered_call_does_not_verify():
    body, secret = b'{"id":"x"}', "s3cret"
    old = str(int(time.time()) - REPLAY_WINDOW_SECONDS - 1)
    assert not verify(secret, old, body, sign(secret, old, body))
    now = str(int(time.time()))
    signature = sign(secret, now, body)
    assert verify(secret, now, body, signature)
    assert not verify(secret, now, body + b" ", signature)
    assert not verify(secret, str(int(now) + 1), body, signature)  # the timestamp is signed
    assert not verify("other", now, body, signature)
    assert not verify(secret, "soon", body, signature)


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "attempts"), [(500, 3), (503, 3), (429, 3), (404, 1), (302, 1)])
def test_retries_are_bounded_and_only_for_temporary_answers(
        client, secrets, loopback_allowed, settings, status, attempts):
    settings.ENHANCER_WEBHOOK_ATTEMPTS = 3
    receiver = Receiver(status=status, headers={"Location": "http://127.0.0.1:1/"}).start()
    try:
        create(client, secrets, f"{receiver.url}/hook")
        hook = JobWebhook.objects.get()
        tasks.deliver_webhook.apply(args=[hook.id])  # eager: retries run at once
        hook.refresh_from_db()
        assert (hook.attempts, hook.last_status, hook.delivered_at) == (attempts, str(status), None)
        assert len(receiver.calls) == attempts
    finally:
        receiver.stop()


@pytest.mark.django_db
@pytest.mark.timeout(120)
def test_a_slow_receiver_is_given_up_on_after_the_total_time_and_the_attempts(
        client, secrets, loopback_allowed, settings):
    settings.ENHANCER_WEBHOOK_ATTEMPTS = 2
    settings.ENHANCER_OUTBOUND_TIMEOUT = 1.0
    receiver = Receiver(drip=0.2).start()
    try:
        create(client, secrets, f"{receiver.url}/hook")
        hook = JobWebhook.objects.get()
        tasks.deliver_webhook.apply(args=[hook.id])
        hook.refresh_from_db()
        assert (hook.attempts, hook.delivered_at) == (2, None)
        assert hook.last_status == "No complete answer within 1 seconds."
    finally:
        receiver.stop()


@pytest.mark.usefixtures("inline_jobs")
def test_a_soft_time_limit_after_success_keeps_the_outputs_and_sends_one_webhook(
        client, secrets, receiver, loopback_allowed):
    """The soft limit can fire in work that follows the commit of a job's results (its finished
    signal): the job stays succeeded with its outputs, and is announced once."""

    def late_soft_limit(sender, job_id, **kwargs):
        raise SoftTimeLimitExceeded()

    job_finished.connect(late_soft_limit, dispatch_uid="test-late-soft-limit")
    try:
        response = create(client, secrets, f"{receiver.url}/hook")
    finally:
        job_finished.disconnect(dispatch_uid="test-late-soft-limit")
    assert response.status_code == 202
    job = Job.objects.get()
    assert (job.status, job.error_code) == ("succeeded", "")
    (output,) = job.outputs.all()
    assert output.file.storage.exists(output.file.name)
    assert [json.loads(call.body)["status"] for call in receiver.calls] == ["succeeded"]


@pytest.mark.django_db
def test_the_developer_page_documents_the_signature_and_replay_window(alice_client):
    text = alice_client.get("/developer/").content.decode()
    assert "X-Enhancer-Timestamp" in text and "5 minutes" in text


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_slow_receiver_never_delays_another_users_photos(client, secrets, bob_secrets, loopback_allowed,
                                                          start_celery_worker):
    """Real workers, as make run and compose start them: a light one (one slot, so anything
    queued in front of a job delays it) and the webhook one. One partner sends ten photos with
    a webhook to a receiver that never finishes answering; another user's photo must still be
    done while every delivery is held."""
    from tests.helpers import wait_for

    slow = Receiver(drip=1.0).start()  # a byte a second, without end
    env = {"ENHANCER_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8", "ENHANCER_OUTBOUND_TIMEOUT": "60"}
    try:
        start_celery_worker("light", **env)
        start_celery_worker("webhooks", pool="threads", **env)
        files = [SimpleUploadedFile(f"{i}.png", image_bytes(), "image/png") for i in range(10)]
        response = client.post("/api/jobs/", {"files": files, "operation": "contrast",
                                              "webhook_url": f"{slow.url}/hook"},
                               HTTP_AUTHORIZATION=f"Token {secrets['token']}")
        assert response.status_code == 202
        wait_for(lambda: Job.objects.filter(status="succeeded").count() == 10, timeout=90)
        wait_for(lambda: slow.calls, timeout=30)  # deliveries have begun, and hang

        other = SimpleUploadedFile("other.png", image_bytes(), "image/png")
        started = time.monotonic()
        response = client.post("/api/jobs/", {"files": [other], "operation": "dehaze"},
                               HTTP_AUTHORIZATION=f"Token {bob_secrets['token']}")
        (made,) = response.json()["jobs"]
        # Behind ten held deliveries this would take ten times the receiver's 60 s.
        job = wait_for(lambda: Job.objects.filter(uuid=made["id"], status="succeeded").first(),
                       timeout=45)
        waited = time.monotonic() - started
        assert JobWebhook.objects.filter(delivered_at__isnull=False).count() == 0  # still held
        print(f"another user's dehaze took {waited:.2f} s while 10 webhooks were held "
              f"(job {job.duration:.2f} s)")
    finally:
        slow.stop()
