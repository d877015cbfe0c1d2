"""The job pipeline run in-process: outputs, progress, failures, retries, delete and re-run."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from apps import providers
from apps.imaging.errors import EnhancerError
from apps.providers.base import ProviderResult
from apps.uploads import running, services
from apps.uploads.models import Job
from apps.uploads.tasks import process_job
from tests.uploads.factories import make_job

pytestmark = pytest.mark.django_db


def test_a_contrast_job_stores_a_valid_output_of_the_same_size(alice):
    job = make_job(alice, "contrast")
    process_job.apply(args=[job.id])
    job.refresh_from_db()
    assert (job.status, job.progress, job.provider) == (Job.Status.SUCCEEDED, 100, "local")
    assert job.started_at and job.finished_at and job.duration >= 0
    output = job.outputs.get()
    assert output.kind == "contrasted"
    with output.file.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        assert image.size == (job.input_width, job.input_height) == (output.width, output.height)


def test_running_a_finished_job_again_does_nothing(alice):
    job = make_job(alice, "contrast")
    process_job.apply(args=[job.id])
    first = job.outputs.get()
    process_job.apply(args=[job.id])
    assert list(job.outputs.all()) == [first]


class FlakyProvider:
    name = "flaky"

    def __init__(self, error: EnhancerError):
        self.error = error
        self.calls = 0

    def unavailable_reason(self, operation):
        return None

    def run(self, operation, data, params, progress):
        self.calls += 1
        progress(0.5)
        raise self.error


@pytest.fixture
def flaky(monkeypatch):
    def install(error):
        provider = FlakyProvider(error)
        monkeypatch.setattr(providers, "for_operation", lambda operation: provider)
        return provider

    return install


def test_a_permanent_error_fails_the_job_with_its_code(alice, flaky):
    provider = flaky(EnhancerError(EnhancerError.UNAVAILABLE, "colorize unavailable: no model"))
    job = make_job(alice, "contrast")
    process_job.apply(args=[job.id])
    job.refresh_from_db()
    assert (job.status, job.error_code) == (Job.Status.FAILED, "unavailable")
    assert job.error_message == "colorize unavailable: no model"
    assert provider.calls == 1
    assert job.outputs.count() == 0


def test_a_temporary_error_is_retried_then_fails(alice, flaky, settings):
    settings.CELERY_TASK_EAGER_PROPAGATES = False
    provider = flaky(EnhancerError(EnhancerError.TEMPORARY, "the cloud timed out"))
    job = make_job(alice, "contrast")
    process_job.apply(args=[job.id])
    job.refresh_from_db()
    assert provider.calls == running.MAX_RETRIES + 1
    assert (job.status, job.error_code) == (Job.Status.FAILED, "temporary")
    assert job.attempts == running.MAX_RETRIES + 1


def test_an_unexpected_crash_fails_the_job_without_leaking_details(alice, flaky):
    flaky(RuntimeError("secret internals"))
    job = make_job(alice, "contrast")
    process_job.apply(args=[job.id])
    job.refresh_from_db()
    assert (job.status, job.error_code) == (Job.Status.FAILED, "internal")
    assert "secret" not in job.error_message


def test_a_job_claimed_by_another_worker_is_left_alone(alice, flaky):
    provider = flaky(EnhancerError(EnhancerError.INTERNAL, "should not run"))
    job = make_job(alice, "contrast")
    # A live claim: another machine's worker, heartbeat just written (liveness.py).
    now = timezone.now()
    Job.objects.filter(id=job.id).update(
        status=Job.Status.RUNNING, started_at=now, heartbeat_at=now, worker="elsewhere:4242"
    )
    process_job.apply(args=[job.id])
    assert provider.calls == 0


def test_progress_is_written_while_running(alice, monkeypatch):
    seen = []

    class Watching:
        name = "watching"

        def unavailable_reason(self, operation):
            return None

        def run(self, operation, data, params, progress):
            for fraction in (0.25, 0.5, 0.75):
                progress(fraction)
                seen.append(Job.objects.get(id=job.id).progress)
            return ProviderResult([], {"needed": False})

    monkeypatch.setattr(providers, "for_operation", lambda operation: Watching())
    monkeypatch.setattr(running.time, "monotonic", iter(range(0, 1000, 10)).__next__)
    job = make_job(alice, "contrast")
    process_job.apply(args=[job.id])
    assert seen == [24, 49, 74]
    job.refresh_from_db()
    assert (job.progress, job.info) == (100, {"needed": False})


def test_delete_removes_the_row_and_every_file(client, alice, django_capture_on_commit_callbacks):
    job = make_job(alice, "contrast")
    process_job.apply(args=[job.id])
    paths = [job.input_file.path, job.thumbnail.path] + [o.file.path for o in job.outputs.all()]
    assert all(os.path.exists(path) for path in paths) and len(paths) == 3
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("history:delete", args=[job.uuid]))
    assert response.status_code == 302
    assert not Job.objects.filter(id=job.id).exists()
    assert not any(os.path.exists(path) for path in paths)


def test_run_again_makes_a_new_job_from_the_same_input(client, alice):
    job = make_job(alice, "dehaze")
    client.force_login(alice)
    response = client.post(reverse("history:rerun", args=[job.uuid]))
    again = Job.objects.exclude(id=job.id).get()
    assert response["Location"] == reverse("history:detail", args=[again.uuid])
    assert (again.operation, again.status, again.input_name) == ("dehaze", "queued", job.input_name)
    with job.input_file.open("rb") as a, again.input_file.open("rb") as b:
        assert a.read() == b.read()


def test_detail_page_shows_before_and_after(client, alice):
    job = make_job(alice, "contrast")
    process_job.apply(args=[job.id])
    client.force_login(alice)
    page = client.get(reverse("history:detail", args=[job.uuid])).content.decode()
    assert reverse("uploads:input", args=[job.uuid]) in page
    assert reverse("uploads:output", args=[job.uuid, "contrasted"]) in page
    assert "Download contrast enhanced" in page


def test_alpha_survives_the_pipeline_as_png(alice):
    rgba = np.zeros((64, 80, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = np.linspace(0, 255, 80, dtype=np.uint8)[None, :]
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    job = make_job(alice, "contrast", data=buffer.getvalue())
    process_job.apply(args=[job.id])
    with job.outputs.get().file.open("rb") as handle:
        out = Image.open(io.BytesIO(handle.read()))
        assert out.mode == "RGBA"
        assert np.abs(np.asarray(out)[..., 3].astype(int) - rgba[..., 3]).max() <= 1


def test_create_jobs_refuses_an_operation_it_would_ignore(alice):
    """Plans carry their own operation and parameters: an operation given beside them would be
    silently dropped, so it is refused, as are plans that do not match the images."""
    from apps.common.images import validate_image
    from apps.uploads import costs
    from tests.helpers import image_bytes

    image = validate_image(image_bytes(), "photo.png")
    plans = costs.admit("contrast", services.validate_operation("contrast", {}), [image])
    with pytest.raises(TypeError):
        services.create_jobs(alice, [image], "upscale", {"factor": 2}, plans=plans)
    with pytest.raises(ValueError):
        services.create_jobs(alice, [image, image], plans=plans)
    assert not Job.objects.exists()
    [job] = services.create_jobs(alice, [image], plans=plans)
    assert job.operation == "contrast"
