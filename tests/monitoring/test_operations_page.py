"""The admin's operations page: what it shows, who may see it, cancel and retry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.imaging.errors import EnhancerError
from apps.monitoring.models import WorkerBeat
from apps.uploads import liveness
from apps.uploads import running as job_running
from apps.uploads.models import Job
from tests.uploads.factories import make_job

pytestmark = pytest.mark.django_db

PAGE = "/admin/operations/"


def test_anonymous_and_non_staff_users_are_sent_to_the_login(client, alice_client):
    assert client.get(PAGE)["Location"].startswith("/admin/login/")
    assert alice_client.get(PAGE)["Location"].startswith("/admin/login/")


def test_staff_without_job_permissions_are_refused(client, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password="x-long-pass-1", is_staff=True)
    client.force_login(clerk)
    assert client.get(PAGE).status_code == 403


def test_the_admin_index_links_to_it(admin_client):
    assert PAGE in admin_client.get("/admin/").content.decode()


def test_it_shows_queues_workers_running_and_queued_jobs_failures_and_costs(admin_client, alice):
    queued = make_job(alice, "contrast")
    Job.objects.filter(id=queued.id).update(created_at=timezone.now() - timedelta(minutes=3))
    running = make_job(alice, "dehaze")
    Job.objects.filter(id=running.id).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), worker="box:4242", progress=40,
        request_id="trace-run",
    )
    failed = make_job(alice, "contrast")
    job_running.fail(failed.id, EnhancerError(EnhancerError.STORAGE_UNAVAILABLE, "disk full"))
    now = timezone.now()
    WorkerBeat.objects.create(name="box:4242", node="light@box", queues="light",
                              started_at=now, beat_at=now - timedelta(seconds=4))

    page = admin_client.get(PAGE).content.decode()
    assert f'data-job="{queued.uuid}" data-status="queued"' in page
    assert f'data-job="{running.uuid}" data-status="running"' in page
    assert "trace-run" in page
    assert reverse("admin_operations_cancel", args=[queued.uuid]) in page
    # The worker row names the job it runs; the heavy queue has nobody.
    assert 'data-worker="box:4242"' in page and f"dehaze {running.uuid}" in page
    assert "(none)" in page
    assert 'data-code="storage_unavailable"' in page
    assert reverse("admin:uploads_job_change", args=[failed.pk]) in page
    assert reverse("admin_operations_retry", args=[failed.uuid]) in page


def test_cancel_ends_a_queued_job_which_no_worker_then_runs(admin_client, alice, settings):
    job = make_job(alice, "contrast")
    response = admin_client.post(reverse("admin_operations_cancel", args=[job.uuid]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.error_code) == (Job.Status.FAILED, EnhancerError.CANCELLED)
    # Its message is still in the broker: the worker that gets it does nothing.
    assert liveness.claim(job.id) is None
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.started_at is None


def test_the_owner_reads_cancelled_in_their_language(admin_client, alice, alice_client):
    job = make_job(alice, "contrast")
    admin_client.post(reverse("admin_operations_cancel", args=[job.uuid]))
    english = alice_client.get(reverse("history:list")).content.decode()
    assert ">cancelled<" in english and "An operator cancelled the job before it ran." in english
    alice_client.cookies["django_language"] = "ru"
    russian = alice_client.get(reverse("history:detail", args=[job.uuid])).content.decode()
    assert ">отменено<" in russian


def test_a_running_job_is_not_cancelled(admin_client, alice):
    job = make_job(alice, "contrast")
    Job.objects.filter(id=job.id).update(status=Job.Status.RUNNING, started_at=timezone.now())
    admin_client.post(reverse("admin_operations_cancel", args=[job.uuid]))
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING


def test_retry_queues_the_failed_job_again_for_its_owner(admin_client, alice, django_capture_on_commit_callbacks):
    job = make_job(alice, "contrast")
    job_running.fail(job.id, EnhancerError(EnhancerError.TIMEOUT, "too long"))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin_operations_retry", args=[job.uuid]))
    assert response.status_code == 302
    again = Job.objects.exclude(id=job.id).get(owner=alice)
    assert again.status == Job.Status.QUEUED
    assert (again.operation, again.params, again.input_name) == (job.operation, job.params, job.input_name)


def test_only_failed_jobs_are_retried(admin_client, alice):
    job = make_job(alice, "contrast")
    admin_client.post(reverse("admin_operations_retry", args=[job.uuid]))
    assert Job.objects.filter(owner=alice).count() == 1


def test_actions_need_post(admin_client, alice):
    job = make_job(alice, "contrast")
    assert admin_client.get(reverse("admin_operations_cancel", args=[job.uuid])).status_code == 405
