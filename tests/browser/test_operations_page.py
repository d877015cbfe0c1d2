"""An operator on the admin's operations page, in Chromium, with a real worker running jobs:
a running job and the queue behind it are shown, and a waiting job is cancelled with its
button. Saves docs/screenshots/operations.jpg when ENHANCER_SCREENSHOTS is set."""

from __future__ import annotations

import time

import pytest

from apps.common import request_id
from apps.imaging.errors import EnhancerError
from apps.uploads.models import Job
from tests.helpers import image_bytes, wait_for
from tests.uploads.factories import make_job

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]


def test_an_operator_sees_the_queue_and_cancels_a_waiting_job(
    page, live_server, start_celery_worker, admin_user, alice, shoot
):
    start_celery_worker("light")
    with request_id.bound("web-5f2c9a"):
        warm_up = make_job(alice, "contrast")
    wait_for(lambda: Job.objects.get(id=warm_up.id).is_finished, timeout=120)
    with request_id.bound("api-8d41e0"):
        long_job = make_job(alice, "dehaze", image_bytes(6000, 4000, fmt="JPEG"), "big.jpg")
    waiting = [make_job(alice, operation) for operation in ("dehaze", "contrast")]

    page.goto(live_server.url + "/admin/login/?next=/admin/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.click("#operations-link a")

    running_row = f'tr[data-job="{long_job.uuid}"][data-status="running"]'
    deadline = time.monotonic() + 120
    while not page.locator(running_row).count():
        assert time.monotonic() < deadline, "the long job was never shown running"
        page.reload()
    assert page.locator(running_row).inner_text().count("api-8d41e0") == 1
    for job in waiting:
        assert page.locator(f'tr[data-job="{job.uuid}"][data-status="queued"]').count() == 1
    assert page.locator('#queues tr[data-queue="light"] [data-role="workers"]').inner_text() == "1"
    assert "(none)" in page.locator('#queues tr[data-queue="heavy"]').inner_text()

    cancelled = waiting[-1]
    page.locator(f'tr[data-job="{cancelled.uuid}"] input[value="Cancel"]').click()
    assert "was cancelled" in page.locator(".messagelist").inner_text()
    assert page.locator('#failures tr[data-code="cancelled"]').count() == 1
    cancelled.refresh_from_db()
    assert (cancelled.status, cancelled.error_code) == (Job.Status.FAILED, EnhancerError.CANCELLED)
    shoot(page, "operations", full_page=True)

    # The worker skips the cancelled job and finishes the rest.
    wait_for(lambda: Job.objects.get(id=waiting[0].id).is_finished, timeout=180)
    cancelled.refresh_from_db()
    assert cancelled.started_at is None
