"""Files follow their rows on every delete path (pages, API, admin, cascades), a worker that
finishes a deleted job leaves nothing, and what is stored is readable by the service only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from apps import providers
from apps.accounts.models import ApiClient
from apps.face_registry.models import Face, Person, Space
from apps.uploads import services
from apps.uploads.models import Job
from apps.uploads.tasks import process_job
from tests.helpers import ROOT, files_under, image_bytes
from tests.uploads.factories import make_job

pytestmark = pytest.mark.django_db


def enrolled_face(owner, client=None, number: int = 0) -> Face:
    """A stored face with its thumbnail file, as enrolment leaves it."""
    space = Space.objects.create(owner=owner, client=client, number=number)
    person = Person.objects.create(space=space, person_id=1)
    face = Face(space=space, person=person, embedding=np.zeros(128, "<f4").tobytes(),
                left=0, top=0, right=10, bottom=10)
    face.thumbnail.save("face.jpg", ContentFile(image_bytes(32, 32, "JPEG")), save=True)
    return face


def finished_job(owner):
    job = make_job(owner, "contrast")
    process_job.apply(args=[job.id])
    assert job.outputs.count() == 1
    return job


def test_deleting_a_user_in_the_admin_removes_their_photos_and_faces(
    admin_client, alice, bob, settings, django_capture_on_commit_callbacks
):
    finished_job(alice)
    enrolled_face(alice)
    kept = finished_job(bob)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:accounts_user_delete", args=[alice.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    left = files_under(settings.MEDIA_ROOT)
    assert left == {kept.input_file.name, kept.thumbnail.name, kept.outputs.get().file.name}
    # Not even empty folders of alice's jobs stay behind.
    assert not list((settings.MEDIA_ROOT / "jobs" / str(alice.pk)).glob("*"))


def test_deleting_jobs_in_the_admin_removes_their_files(
    admin_client, alice, settings, django_capture_on_commit_callbacks
):
    one, two, three = (finished_job(alice) for _ in range(3))
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:uploads_job_delete", args=[one.pk]), {"post": "yes"})
        admin_client.post(
            reverse("admin:uploads_job_changelist"),
            {"action": "delete_selected", "_selected_action": [two.pk], "post": "yes"},
        )
    left = files_under(settings.MEDIA_ROOT)
    assert left == {three.input_file.name, three.thumbnail.name, three.outputs.get().file.name}


def test_revoking_an_api_client_removes_its_spaces_face_thumbnails(
    client, alice, settings, django_capture_on_commit_callbacks
):
    partner, _secrets = ApiClient.issue(alice, "alice-app")
    enrolled_face(alice, client=partner)
    own = enrolled_face(alice, number=1)
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("api:developer-revoke", args=[partner.pk]))
    assert not Space.objects.filter(client=partner).exists()
    assert files_under(settings.MEDIA_ROOT) == {own.thumbnail.name}


def test_deleting_a_job_over_the_api_removes_its_files(
    client, alice, settings, django_capture_on_commit_callbacks
):
    job = finished_job(alice)
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"/api/jobs/{job.uuid}/")
    assert response.status_code == 204
    assert files_under(settings.MEDIA_ROOT) == set()


def test_a_worker_finishing_a_deleted_job_leaves_no_files(
    alice, settings, monkeypatch, django_capture_on_commit_callbacks
):
    job = make_job(alice, "contrast")
    real = providers.for_operation("contrast")

    class DeletedMeanwhile:
        """The real provider; the user deletes the job while it runs."""

        name = real.name

        def unavailable_reason(self, operation):
            return real.unavailable_reason(operation)

        def run(self, operation, data, params, progress):
            result = real.run(operation, data, params, progress)
            with django_capture_on_commit_callbacks(execute=True):
                services.delete_job(Job.objects.get(id=job.id))
            return result

    monkeypatch.setattr(providers, "for_operation", lambda operation: DeletedMeanwhile())
    process_job.apply(args=[job.id])
    assert not Job.objects.filter(id=job.id).exists()
    assert files_under(settings.MEDIA_ROOT) == set()


def test_stored_photos_and_their_folders_are_private_to_the_service(alice, settings):
    job = finished_job(alice)
    for name in (job.input_file.name, job.thumbnail.name, job.outputs.get().file.name):
        assert stat.S_IMODE(os.stat(settings.MEDIA_ROOT / name).st_mode) == 0o600, name
    folder = settings.MEDIA_ROOT / os.path.dirname(job.input_file.name)
    while folder != settings.MEDIA_ROOT:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        folder = folder.parent


def test_the_default_database_file_and_var_folder_are_private(tmp_path):
    var = tmp_path / "fresh-var"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(ENHANCER_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="enhancer_site.settings",
               CELERY_BROKER_URL="filesystem://")
    script = (
        "import django; django.setup(); from django.db import connection\n"
        "with connection.cursor() as c: c.execute('create table t (x int)')\n"
        "connection.close()"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True)
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    database = var / "enhancer.sqlite3"
    assert database.stat().st_size > 0
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_importing_the_settings_creates_nothing_until_it_is_needed(tmp_path):
    """``manage.py check`` on a fresh checkout makes no folder or file; the broker's folders
    come when Celery is first configured, the secret key when first read."""
    var = tmp_path / "fresh-var"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "ENHANCER_", "CELERY_")) and k not in ("DATABASE_URL", "MEDIA_ROOT")}
    env.update(ENHANCER_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="enhancer_site.settings")
    script = (
        "import os, sys, django; django.setup()\n"
        "from django.core.management import call_command; call_command('check')\n"
        "print(os.path.exists(sys.argv[1]))\n"
        "from enhancer_site.celery import app; app.conf.broker_url\n"
        "print(sorted(os.listdir(os.path.join(sys.argv[1], 'broker'))))\n"
        "from django.conf import settings; print(len(settings.SECRET_KEY))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(var)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.splitlines()[-3:] == ["False", "['control', 'out', 'processed']", "67"], result.stderr
    assert stat.S_IMODE((var / "secret_key").stat().st_mode) == 0o600
    # The broker made var/ (Celery was configured first): private too.
    assert {stat.S_IMODE(path.stat().st_mode) for path in (var, var / "broker", var / "broker" / "out")} == {0o700}
