"""Light work never waits behind heavy work: real worker processes, one per queue, as
``make run`` and compose start them, with a real Real-ESRGAN upscale holding the heavy one."""

from __future__ import annotations

import os
import signal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.uploads.models import Job
from tests.helpers import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def upload(client, path, operation: str, **fields) -> Job:
    photo = SimpleUploadedFile(path.name, path.read_bytes())
    response = client.post(reverse("uploads:new"), {"photos": [photo], "operation": operation, **fields})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Job.objects.filter(operation=operation).latest("id")


def test_a_dehaze_finishes_while_a_real_upscale_holds_the_heavy_worker(
    client, alice, start_celery_worker, fixture_path
):
    heavy = start_celery_worker("heavy")
    start_celery_worker("light")
    client.force_login(alice)

    # 492x480 x4 best: Real-ESRGAN x4plus, seconds with AMX bf16 and a minute in fp32 (photo x2
    # runs SPAN, done in under a second on a fast CPU: too quick to hold the worker).
    upscale = upload(client, fixture_path("photos/baboon_gt.png"), "upscale", factor=4,
                     kind="photo", quality="best")
    assert upscale.cost_class == "heavy"

    def upscale_running() -> bool:
        upscale.refresh_from_db()
        return upscale.status == Job.Status.RUNNING

    wait_for(upscale_running, timeout=60)

    dehaze = upload(client, fixture_path("photos/hazy_forest.jpg"), "dehaze")
    assert dehaze.cost_class == "light"

    def dehaze_finished() -> bool:
        dehaze.refresh_from_db()
        return dehaze.is_finished

    wait_for(dehaze_finished, timeout=120)
    assert dehaze.status == Job.Status.SUCCEEDED, dehaze.error_message
    upscale.refresh_from_db()
    assert upscale.status == Job.Status.RUNNING  # still at it: the dehaze did not wait for it
    status = client.get(reverse("uploads:status", args=[upscale.uuid])).json()
    assert status["eta_seconds"] >= 1 and status["eta_text"].endswith("left")

    # The upscale has proved its point; stop it now rather than wait minutes for it.
    os.killpg(heavy.pid, signal.SIGKILL)
    heavy.wait(timeout=10)
