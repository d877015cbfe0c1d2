"""Refusals by estimate on the VK, Baidu and Meitu surfaces, and synchronous calls that could not
finish within their wait answered at once in each protocol's own timeout terms.

No worker runs here: every answer below comes before anything is stored or waited for.
"""

from __future__ import annotations

import pytest

from apps.uploads import costs
from apps.uploads.models import Job, OperationCost
from tests.api.baidu_helpers import call, get_token, without_log_id
from tests.api.meitu_helpers import post as meitu_post
from tests.api.meitu_helpers import request_body
from tests.api.vk_helpers import jpeg, vk_post
from tests.helpers import SLOW_CPU_COSTS
from tests.uploads.factories import make_job

pytestmark = pytest.mark.django_db

IMPROVE = "/api/v1/photo/improve"


@pytest.fixture(autouse=True)
def slow_cpu(monkeypatch):
    monkeypatch.setattr(costs, "DEFAULTS", SLOW_CPU_COSTS + costs.DEFAULTS)
    monkeypatch.setattr(costs, "_speedup", lambda operation, params: 1.0)  # whatever this CPU's probe found


@pytest.fixture
def busy_heavy_queue(alice):
    """An upscale already waiting in the heavy queue, estimated at ten minutes."""
    job = make_job(alice, "contrast")
    Job.objects.filter(id=job.id).update(cost_class=costs.HEAVY, estimate_seconds=600)
    return job


def slow_classical_restore() -> None:
    """This machine's measured cost of restore's classical path, made very slow."""
    key = costs.plan("restore", {}, 800, 600).key
    assert key == "restore path=classical"
    OperationCost.objects.create(
        key=key, operation="restore", overhead_seconds=1, seconds_per_megapixel=5000
    )


# --- VK ----------------------------------------------------------------------------------------


def test_vk_refuses_a_resolution_over_the_time_limit_per_image(client, secrets, settings):
    settings.ENHANCER_JOB_SOFT_TIME_LIMIT = 60
    meta = {"mode": ["resolution"], "rfactor": 4, "rtype": "photo", "images": [{"name": "file"}]}
    payload = vk_post(client, IMPROVE, secrets["token"], meta, {"file": jpeg(640, 480)}).json()
    assert payload["status"] == 200
    (item,) = payload["body"]["resolution"]
    assert (item["status"], item["name"]) == (1, "file")  # permanent: the same photo never fits
    assert "would take about" in item["error"] and "What would fit" in item["error"]
    assert not Job.objects.exists()


def test_vk_answers_status_2_at_once_when_the_queue_ahead_is_too_long(
    client, secrets, settings, busy_heavy_queue
):
    settings.ENHANCER_COMPAT_WAIT_SECONDS = 120
    meta = {"mode": ["resolution"], "rfactor": 2, "rtype": "photo", "images": [{"name": "file"}]}
    payload = vk_post(client, IMPROVE, secrets["token"], meta, {"file": jpeg()}).json()
    (item,) = payload["body"]["resolution"]
    assert (item["status"], item["name"]) == (2, "file")
    # 600 s queued ahead + its own few seconds.
    assert item["error"].startswith("timeout: this would finish in about 10 min")
    assert list(Job.objects.all()) == [busy_heavy_queue]


def test_vk_light_work_is_not_held_up_by_a_busy_heavy_queue(
    client, secrets, settings, busy_heavy_queue, monkeypatch
):
    from apps.imaging import colorize

    # improve on a photo above restore's network limit, with no colorizer: light work.
    monkeypatch.setattr(colorize, "unavailable_reason", lambda: "no colorizer model installed")
    # Enough for its estimate (~2.4 s); nothing runs the job, so it times out waiting.
    settings.ENHANCER_COMPAT_WAIT_SECONDS = 3
    meta = {"mode": ["improve"], "images": [{"name": "file"}]}
    payload = vk_post(client, IMPROVE, secrets["token"], meta, {"file": jpeg(800, 600)}).json()
    (item,) = payload["body"]["improve"]
    assert item["error"] == "timeout: the job is still running"
    assert Job.objects.filter(operation="improve", cost_class="light").count() == 1


# --- Baidu -------------------------------------------------------------------------------------


def test_baidu_refuses_a_job_over_the_time_limit_as_an_image_size_error(
    client, secrets, settings
):
    settings.ENHANCER_JOB_SOFT_TIME_LIMIT = 60
    token = get_token(client, secrets)
    response = call(client, token, "image_quality_enhance", jpeg(700, 700))
    assert without_log_id(response.json()) == {"error_code": 216202, "error_msg": "image size error"}
    assert not Job.objects.exists()


def test_baidu_answers_282000_at_once_when_the_job_cannot_finish_within_the_wait(
    client, secrets, settings
):
    # 0.49 MP of Real-ESRGAN x2: well inside the time limit, beyond the wait.
    settings.ENHANCER_COMPAT_WAIT_SECONDS = 60
    token = get_token(client, secrets)
    response = call(client, token, "image_quality_enhance", jpeg(700, 700))
    assert without_log_id(response.json()) == {"error_code": 282000, "error_msg": "internal error"}
    assert not Job.objects.exists()


# --- Meitu -------------------------------------------------------------------------------------


def test_meitu_refuses_a_job_over_the_time_limit(client, secrets):
    slow_classical_restore()
    response = meitu_post(client, secrets, request_body(jpeg(800, 600)))
    payload = response.json()
    assert (response.status_code, payload["ErrorCode"], payload["ErrorMsg"]) == (
        400, 20001, "PROCESS_ERROR"
    )
    assert "would take about" in payload["Data"] and "What would fit" in payload["Data"]
    assert not Job.objects.exists()


def test_meitu_answers_its_timeout_at_once_when_the_light_queue_is_long(
    client, secrets, settings, alice
):
    settings.ENHANCER_QUEUE_CONCURRENCY = {"light": 2, "heavy": 1}
    for _ in range(2):
        waiting = make_job(alice, "dehaze")
        Job.objects.filter(id=waiting.id).update(estimate_seconds=200)
    response = meitu_post(client, secrets, request_body(jpeg(800, 600)))
    payload = response.json()
    assert (payload["ErrorCode"], payload["ErrorMsg"]) == (20001, "PROCESS_ERROR")
    assert payload["Data"].startswith("timeout:")
    assert Job.objects.count() == 2  # nothing stored for the refused call

