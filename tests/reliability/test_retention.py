"""Data lifecycle: ENHANCER_RETENTION_DAYS deletes old jobs with their inputs and outputs,
through the task Celery beat runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from apps.uploads.models import Job
from apps.uploads.tasks import delete_expired_jobs, process_job
from tests.helpers import files_under
from tests.uploads.factories import make_job

pytestmark = pytest.mark.django_db


def job_created_days_ago(owner, days: float) -> Job:
    job = make_job(owner, "contrast")
    process_job.apply(args=[job.id])
    Job.objects.filter(id=job.id).update(created_at=timezone.now() - timedelta(days=days))
    return job


def test_jobs_older_than_the_retention_go_with_their_files(
    alice, bob, settings, django_capture_on_commit_callbacks
):
    settings.ENHANCER_RETENTION_DAYS = 30
    old = [job_created_days_ago(alice, 31), job_created_days_ago(bob, 400)]
    recent = job_created_days_ago(alice, 29)
    with django_capture_on_commit_callbacks(execute=True):
        assert delete_expired_jobs.apply().get() == 2
    assert list(Job.objects.values_list("id", flat=True)) == [recent.id]
    assert files_under(settings.MEDIA_ROOT) == {
        recent.input_file.name, recent.thumbnail.name, recent.outputs.get().file.name
    }
    assert not any(Job.objects.filter(id=job.id).exists() for job in old)


def test_a_retention_of_zero_days_keeps_everything(alice, settings):
    settings.ENHANCER_RETENTION_DAYS = 0
    job_created_days_ago(alice, 3650)
    assert delete_expired_jobs.apply().get() == 0
    assert Job.objects.count() == 1


def test_beat_runs_the_retention_and_the_stale_job_sweeper():
    tasks = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"apps.uploads.tasks.delete_expired_jobs", "apps.uploads.tasks.sweep_stale_jobs"} <= tasks
    from enhancer_site.celery import app

    app.loader.import_default_modules()
    assert tasks <= set(app.tasks)
