"""Several machines for real: this test process is the web server, two ``celery worker``
processes and a face-registry process are the other machines. Each has its own empty
ENHANCER_VAR_DIR, MEDIA_ROOT, model and cache folders; they share only the database, the broker
and the S3 bucket (a moto server on loopback) — as web, light/heavy workers and beat do in
production."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from apps.face_registry import services as faces
from apps.face_registry.models import Face
from apps.imaging import operations
from apps.uploads.models import Job
from tests.face_registry.conftest import needs_face_models
from tests.helpers import (
    RegistryProcess,
    files_under,
    image_bytes,
    process_env,
    start_worker_process,
    stop_process_group,
    wait_for,
)

from .conftest import Bucket

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


class Machine:
    """Another host: its own var folder (media, models, cache), the shared database, broker and
    bucket. Model files are installed per machine, so any the web host has are copied in."""

    def __init__(self, name: str, root: Path, bucket: Bucket) -> None:
        self.name = f"{name}-{os.getpid()}"
        self.var = root / name / "var"
        self.media = self.var / "media"
        models = self.var / "models"
        self.media.mkdir(parents=True)
        if Path(settings.ENHANCER_MODEL_DIR).is_dir():
            shutil.copytree(settings.ENHANCER_MODEL_DIR, models)
        broker = {}
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            # The embedded broker's folder is the broker itself, the one thing shared here.
            broker["ENHANCER_BROKER_DIR"] = str(settings.BROKER_DIR)
        self.env = process_env(
            self.media,
            ENHANCER_VAR_DIR=str(self.var),
            ENHANCER_MODEL_DIR=str(models),
            ENHANCER_CACHE_DIR=str(self.var / "cache"),
            PYTHONUNBUFFERED="1",
            **broker,
            **bucket.env,
        )
        self.log_path = root / name / "log.txt"
        self.process: subprocess.Popen | None = None

    def stored_files(self) -> set[str]:
        """Files this machine kept locally other than its own model cache and installed models
        and its local secret key (settings.py, without DJANGO_SECRET_KEY): must stay empty."""
        return {
            name for name in files_under(self.var)
            if not name.startswith(("cache/", "models/")) and name != "secret_key"
        }


class Worker(Machine):
    def start(self) -> None:
        self.process = start_worker_process(self.log_path, self.env, self.name, timeout=90)

    def ran(self, job: Job) -> bool:
        return str(job.uuid) in self.log_path.read_text()

    def stop(self) -> None:
        if self.process:
            stop_process_group(self.process, grace=30)


@pytest.fixture
def workers(tmp_path, bucket):
    started = [Worker(name, tmp_path, bucket) for name in ("worker-a", "worker-b")]
    try:
        for worker in started:
            worker.start()
        yield started
    finally:
        for worker in started:
            worker.stop()


def noisy_photo(width: int = 800, height: int = 600) -> bytes:
    """Large enough for restore's classical path, noisy enough to need it."""
    base = np.asarray(Image.open(io.BytesIO(image_bytes(width, height))).convert("RGB"), np.float32)
    noisy = base + np.random.default_rng(1).normal(0, 18, base.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def submit(client, name: str, data: bytes, operation: str, params: dict | None = None):
    photo = SimpleUploadedFile(name, data, "application/octet-stream")
    body = {"files": [photo], "operation": operation}
    if params:
        body["params"] = json.dumps(params)
    return client.post("/api/jobs/", body)


def accepted(response) -> Job:
    assert response.status_code == 202, response.content
    return Job.objects.get(uuid=response.json()["jobs"][0]["id"])


def finished(*jobs: Job) -> None:
    def done() -> bool:
        for job in jobs:
            job.refresh_from_db()
        return all(job.is_finished for job in jobs)

    wait_for(done, timeout=180, interval=0.3)
    for job in jobs:
        assert job.status == Job.Status.SUCCEEDED, (job.operation, job.error_code, job.error_message)


def test_jobs_of_every_operation_run_on_workers_that_share_no_disk(
    alice_client, bucket, workers, fixture_path, private_media
):
    worker_a, worker_b = workers
    jobs = {
        "dehaze": accepted(submit(alice_client, "forest.jpg",
                                  fixture_path("photos/hazy_forest.jpg").read_bytes(), "dehaze")),
        "contrast": accepted(submit(alice_client, "gray.png",
                                    fixture_path("photos/gray_00017.png").read_bytes(), "contrast")),
        "restore": accepted(submit(alice_client, "noisy.jpg", noisy_photo(), "restore")),
        "upscale": accepted(submit(alice_client, "icon.png", image_bytes(64, 48), "upscale",
                                   {"factor": 2, "kind": "art"})),
    }
    before = bucket.keys()
    colorize = submit(alice_client, "old.png", image_bytes(), "colorize")
    if operations.availability()["colorize"] is None:
        jobs["colorize"] = accepted(colorize)
    else:
        # No colorizer is installed on this host: refused at once, honestly, nothing stored.
        assert (colorize.status_code, colorize.json()["code"]) == (422, "unavailable")
        assert bucket.keys() == before
    finished(*jobs.values())

    expected = {"dehaze": "dehazed", "contrast": "contrasted", "restore": "improved",
                "upscale": "resolved", "colorize": "colored"}
    for operation, job in jobs.items():
        output = job.outputs.get(kind=expected[operation])
        key = f"media/{output.file.name}"
        assert key in bucket.keys()
        page = alice_client.get(reverse("uploads:output", args=[job.uuid, output.kind]))
        assert page.status_code == 200
        body = b"".join(page.streaming_content)
        assert body == bucket.read(key)
        assert Image.open(io.BytesIO(body)).size == (output.width, output.height)
    assert jobs["upscale"].outputs.get().width == 128

    # Stop a worker that ran something: the next job can only go to the other one, so both
    # machines are shown working from the bucket alone.
    busy = next(worker for worker in workers if any(worker.ran(job) for job in jobs.values()))
    other = worker_b if busy is worker_a else worker_a
    busy.stop()
    last = accepted(submit(alice_client, "late.png", image_bytes(90, 60), "contrast"))
    finished(last)
    assert other.ran(last) and not busy.ran(last)
    jobs["late"] = last

    for worker in workers:
        assert worker.stored_files() == set(), worker.name
    assert files_under(private_media) == set()

    for job in jobs.values():
        response = alice_client.post(reverse("history:delete", args=[job.uuid]))
        assert response.status_code == 302
    assert bucket.keys() == []


@needs_face_models
def test_a_face_enrolled_on_one_machine_is_recognised_on_another(
    alice, alice_client, bucket, tmp_path, fixture_path, private_media
):
    space = faces.get_space(alice, 0)
    obama, obama2 = fixture_path("faces/obama.jpg"), fixture_path("faces/obama2.jpg")
    machine = Machine("registry", tmp_path, bucket)
    other = RegistryProcess({**machine.env, "LOG_LEVEL": "WARNING"})
    try:
        other(op="set", space=space.pk, person_id=1, path=str(obama))
        # Recognised here, on the web machine, from the shared database alone.
        found = faces.recognize(space, obama2.read_bytes(), "obama2.jpg", False)
        assert [face.tag for face in found.faces] == ["person1"]

        # The thumbnail the other machine stored is served by this one.
        face = Face.objects.get(space=space)
        assert bucket.keys("media/faces/") == [f"media/{face.thumbnail.name}"]
        page = alice_client.get(reverse("face_registry:face_thumbnail", args=[face.uuid]))
        assert page.status_code == 200
        assert Image.open(io.BytesIO(b"".join(page.streaming_content))).format == "JPEG"

        assert other(op="delete_person", space=space.pk, person_id=1) == {"deleted": True}
        assert bucket.keys() == []
        found = faces.recognize(space, obama2.read_bytes(), "obama2.jpg", False)
        assert [face.tag for face in found.faces] == ["undefined"]
    finally:
        other.close()
    assert machine.stored_files() == set()
    assert files_under(private_media) == set()
