"""Cost classes, queues, estimates and admission (apps/uploads/costs.py); queue positions and
ETAs (apps/uploads/queue.py)."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from apps.imaging import operations, restore
from apps.imaging.errors import EnhancerError
from apps.uploads import costs, queue
from apps.uploads.models import Job, OperationCost
from apps.uploads.operation_text import wait_text
from tests.helpers import image_bytes, use_slow_cpu_costs
from tests.uploads.factories import make_job

pytestmark = pytest.mark.django_db

MEASURED_SPEEDUP = costs._speedup


@pytest.fixture(autouse=True)
def slow_cpu(monkeypatch):
    use_slow_cpu_costs(monkeypatch)


@pytest.fixture
def published(monkeypatch):
    """The queue each published job's message went to, in order."""
    from apps.uploads.tasks import process_job

    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(
        process_job, "apply_async",
        lambda args=None, kwargs=None, queue=None, **kw: sent.append((args[0], queue)),
    )
    return sent


@pytest.mark.parametrize(
    ("operation", "params", "size", "cost_class"),
    [
        ("contrast", {}, (96, 64), "light"),
        ("dehaze", {}, (1600, 1200), "light"),
        ("upscale", {"factor": 2, "kind": "photo"}, (96, 64), "heavy"),
        ("upscale", {"factor": 4, "kind": "art"}, (96, 64), "heavy"),
        # restore uses Real-ESRGAN only up to ENHANCER_RESTORE_NET_MAX_PIXELS, filters above.
        ("restore", {}, (400, 300), "heavy"),
        ("restore", {}, (800, 600), "light"),
    ],
)
def test_each_job_goes_to_the_queue_of_its_cost_class(
    alice, published, django_capture_on_commit_callbacks, operation, params, size, cost_class
):
    with django_capture_on_commit_callbacks(execute=True):
        job = make_job(alice, operation, image_bytes(*size), params=params)
    assert job.cost_class == cost_class
    assert published == [(job.id, cost_class)]
    assert job.estimate_seconds > 0


def test_restore_follows_the_network_pixel_limit(alice, monkeypatch):
    monkeypatch.setenv("ENHANCER_RESTORE_NET_MAX_PIXELS", str(1000 * 1000))
    assert restore.network_max_pixels() == 1_000_000
    assert costs.plan("restore", {}, 800, 600).cost_class == "heavy"
    assert costs.plan("restore", {}, 1600, 1200).cost_class == "light"


def test_improve_is_heavy_when_it_may_colorize(monkeypatch):
    from apps.imaging import colorize

    monkeypatch.setattr(colorize, "unavailable_reason", lambda: "no colorizer model installed")
    assert costs.plan("improve", {}, 1600, 1200).cost_class == "light"
    monkeypatch.setattr(colorize, "unavailable_reason", lambda: None)
    colorizing = costs.plan("improve", {}, 1600, 1200)
    assert colorizing.cost_class == "heavy"
    assert colorizing.key == "improve path=classical+colorize"


def test_new_parameters_get_their_own_key_and_the_closest_default():
    fast = costs.plan("upscale", {"factor": 4, "kind": "photo", "quality": "fast"}, 640, 480)
    best = costs.plan("upscale", {"factor": 4, "kind": "photo"}, 640, 480)
    assert fast.key == "upscale factor=4 kind=photo quality=fast"
    assert fast.estimate_seconds < best.estimate_seconds


def test_tiers_running_the_same_network_share_one_estimate():
    def cleaned(**params):
        params = operations.get("upscale").clean_params(params)
        return costs.plan("upscale", params, 1000, 1000)

    x2_best, x2_fast = cleaned(factor=2, quality="best"), cleaned(factor=2, quality="fast")
    # Both run SPAN x2: one key, so what either job teaches the rate serves both.
    assert x2_best.key == x2_fast.key == "upscale factor=2 kind=photo quality=fast"
    OperationCost.objects.create(key=x2_fast.key, operation="upscale", overhead_seconds=1.0,
                                 seconds_per_megapixel=3.0)
    assert cleaned(factor=2, quality="best").estimate_seconds == 4.0
    assert cleaned(factor=4, quality="fast").estimate_seconds < cleaned(factor=4).estimate_seconds
    art = cleaned(factor=4, kind="art", quality="best")
    assert art.key == "upscale factor=4 kind=art quality=fast"


def test_network_defaults_follow_the_measured_speedup(monkeypatch):
    slow = costs.plan("upscale", {"factor": 4, "kind": "photo", "quality": "best"}, 1000, 1000)
    light = costs.plan("dehaze", {}, 1000, 1000)
    monkeypatch.setattr(costs, "_speedup", lambda _network: 2.0)
    fast = costs.plan("upscale", {"factor": 4, "kind": "photo", "quality": "best"}, 1000, 1000)
    assert fast.estimate_seconds == pytest.approx(5.0 + (slow.estimate_seconds - 5.0) / 2)
    assert costs.plan("dehaze", {}, 1000, 1000).estimate_seconds == light.estimate_seconds


def test_a_job_refused_in_float_fits_once_int8_is_used_here(monkeypatch, settings):
    """x4plus (photo x4 best, restore's network) follows its own int8 gain; the other
    networks keep the float choice's."""
    from apps.imaging import networks

    settings.ENHANCER_JOB_SOFT_TIME_LIMIT = 900
    monkeypatch.setattr(costs, "_speedup", MEASURED_SPEEDUP)
    gains = {"photo-x4": 1.75}
    monkeypatch.setattr(networks, "known_speedup", lambda key: gains.get(key, 1.75))
    photo = {"factor": 4, "kind": "photo", "quality": "best"}
    with pytest.raises(EnhancerError):  # 730 s/MP / 1.75: 1.23 MP fit, not 2.4
        costs.admit("upscale", photo, [_info(1800, 1350)])
    fast = costs.plan("upscale", {**photo, "quality": "fast"}, 1000, 1000).estimate_seconds
    gains["photo-x4"] = 4.0  # the gated int8 trunk, timed here
    assert costs.admit("upscale", photo, [_info(1800, 1350)])
    assert costs.plan("upscale", {**photo, "quality": "fast"}, 1000, 1000).estimate_seconds == fast
    restore = costs.default_cost("restore", {"path": "network"})
    gains["photo-x4"] = 1.0
    assert costs.default_cost("restore", {"path": "network"})[1] == restore[1] * 4.0
    # Slower than the declared float32 rate (a Zen 1 EPYC's race: 500 s per MP): what would fit
    # that rate (2 MP: 305 s) is refused rather than stopped after 15 minutes.
    gains["photo-x4"] = 150.0 / 500.0
    with pytest.raises(EnhancerError):
        costs.admit("upscale", photo, [_info(1600, 1250)])


def test_the_time_left_counts_down_with_the_clock_and_the_bar(alice):
    started = timezone.now() - timedelta(seconds=30)
    # 30 s in, no progress yet: the estimate less the time spent.
    assert queue._remaining(100.0, 0, started) == pytest.approx(70.0, abs=0.5)
    # Half way after 30 s: the pace (30 s more) weighs half, the estimate (70 s) the other half.
    assert queue._remaining(100.0, 50, started) == pytest.approx(50.0, abs=0.5)
    # Nearly done: the pace decides.
    assert queue._remaining(100.0, 95, started) < 6.0
    later = timezone.now() - timedelta(seconds=40)
    assert queue._remaining(100.0, 60, later) < queue._remaining(100.0, 50, started) - 5


def test_the_estimate_comes_from_the_stored_cost_row():
    key = costs.plan("dehaze", {}, 1000, 1000).key
    before = costs.plan("dehaze", {}, 1000, 1000).estimate_seconds
    OperationCost.objects.create(
        key=key, operation="dehaze", overhead_seconds=1.0, seconds_per_megapixel=9.0
    )
    assert before != 10.0
    assert costs.plan("dehaze", {}, 1000, 1000).estimate_seconds == 10.0


def test_a_succeeded_job_moves_its_rate_towards_what_it_took(alice):
    job = make_job(alice, "dehaze", image_bytes(1000, 1000))
    row = OperationCost.objects.create(
        key=job.cost_key, operation="dehaze", overhead_seconds=0.0, seconds_per_megapixel=1.0,
        samples=10,
    )
    now = timezone.now()
    Job.objects.filter(id=job.id).update(
        status=Job.Status.SUCCEEDED, started_at=now - timedelta(seconds=3), finished_at=now
    )
    costs.observe(job.id)
    row.refresh_from_db()
    # 3 s for 1 MP observed; the moving average takes a quarter of the step.
    assert row.seconds_per_megapixel == pytest.approx(1.0 + 0.25 * (3.0 - 1.0))
    assert (row.samples, row.source) == (11, "observed")


def test_one_absurd_duration_moves_the_rate_at_most_fourfold(alice):
    job = make_job(alice, "contrast", image_bytes(1000, 1000))
    now = timezone.now()
    Job.objects.filter(id=job.id).update(
        status=Job.Status.SUCCEEDED, started_at=now - timedelta(seconds=500), finished_at=now
    )
    overhead, rate = costs.default_cost("contrast", {})
    row = costs.observe(job.id)
    assert row.seconds_per_megapixel == pytest.approx(rate * costs.MAX_STEP)
    assert row.overhead_seconds == overhead


def test_the_worker_records_the_duration_when_a_job_succeeds(
    alice, django_capture_on_commit_callbacks
):
    from apps.uploads.tasks import process_job

    job = make_job(alice, "contrast")
    assert not OperationCost.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        process_job.apply(args=[job.id])
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    row = OperationCost.objects.get(key=job.cost_key)
    assert (row.samples, row.source) == (1, "observed")


def test_queue_position_counts_queued_jobs_of_the_same_class_only(alice, bob):
    first = make_job(alice, "contrast")
    make_job(bob, "upscale", params={"factor": 2, "kind": "photo"})
    second = make_job(bob, "dehaze")
    third = make_job(alice, "contrast")
    running = make_job(alice, "contrast")
    Job.objects.filter(id=running.id).update(status=Job.Status.RUNNING, started_at=timezone.now())
    running.refresh_from_db()
    assert [queue.queue_position(job) for job in (first, second, third)] == [1, 2, 3]
    assert queue.queue_position(running) is None
    annotated = {job.id: job for job in queue.with_queue(Job.objects.all())}
    assert annotated[third.id].queue_ahead == 2


def test_the_eta_adds_the_queue_ahead_shared_by_the_queues_workers(alice, settings):
    settings.ENHANCER_QUEUE_CONCURRENCY = {"light": 2, "heavy": 1}
    jobs = [make_job(alice, "dehaze") for _ in range(3)]
    Job.objects.filter(id__in=[job.id for job in jobs]).update(estimate_seconds=60)
    for job in jobs:
        job.refresh_from_db()
    assert queue.eta_seconds(jobs[2]) == 60 + (60 + 60) // 2
    assert wait_text(jobs[2]) == "about 2 min · 3rd in line"
    assert wait_text(jobs[0]) == "about 60 s · next in line"
    Job.objects.filter(id=jobs[0].id).update(status=Job.Status.SUCCEEDED)
    jobs[0].refresh_from_db()
    assert queue.eta_seconds(jobs[0]) is None and wait_text(jobs[0]) == ""


def test_the_status_json_and_the_history_pages_show_the_wait(alice_client, alice):
    job = make_job(alice, "contrast")
    later = make_job(alice, "contrast")
    status = alice_client.get(reverse("uploads:status", args=[later.uuid])).json()
    assert status["queue_position"] == 2 and status["eta_seconds"] >= 1
    assert "2nd in line" in status["eta_text"]
    assert "2nd in line" in alice_client.get(reverse("history:list")).content.decode()
    page = alice_client.get(reverse("history:detail", args=[job.uuid])).content.decode()
    assert "next in line" in page


def test_the_upload_page_refuses_a_job_longer_than_the_time_limit(alice_client, alice, settings):
    settings.ENHANCER_JOB_SOFT_TIME_LIMIT = 120
    photo = SimpleUploadedFile("big.png", image_bytes(800, 600), "image/png")
    response = alice_client.post(
        reverse("uploads:new"), {"photos": [photo], "operation": "upscale", "factor": 4, "kind": "photo"}
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "would take about" in text and "jobs are stopped after 2 min" in text
    assert "a smaller photo, at most" in text
    assert not Job.objects.exists()


def test_the_refusal_reads_in_russian_with_what_would_fit(alice_client, alice, settings):
    settings.ENHANCER_JOB_SOFT_TIME_LIMIT = 120
    alice_client.post(reverse("set_language"), {"language": "ru"})
    photo = SimpleUploadedFile("big.png", image_bytes(800, 600), "image/png")
    response = alice_client.post(
        reverse("uploads:new"), {"photos": [photo], "operation": "upscale", "factor": 4, "kind": "photo"}
    )
    text = html.unescape(response.content.decode())
    assert "Увеличение (×4, фотография, наилучшее) этой фотографии 800×600 заняло бы здесь около" in text
    assert "а задания останавливаются через 2 мин. Уложится: фотография поменьше, не больше" in text
    assert "; или Увеличение (×2, фотография, наилучшее) при этом размере (около" in text
    for english in ("would take", "jobs are stopped", "What would fit", "a smaller photo", "at this size"):
        assert english not in text


def test_the_refusal_says_what_would_fit(settings):
    settings.ENHANCER_JOB_SOFT_TIME_LIMIT = 900
    with pytest.raises(EnhancerError) as refused:
        costs.admit("upscale", {"factor": 4, "kind": "photo"}, [_info(2000, 1500)])
    assert refused.value.code == "over_time_limit"
    message = refused.value.message
    assert "upscale factor=4 kind=photo on this 2000×1500 photo" in message
    # 730 s/MP + 5 s overhead: (900 - 5) / 730 = 1.23 MP fits, about 1278x959 at 4:3.
    assert "at most 1.23 megapixels (about 1278×959 at this shape)" in message
    # Parameter changes the operation accepts are offered when they fit.
    from apps.imaging import operations

    try:
        operations.get("upscale").clean_params({"quality": "fast"})
    except EnhancerError:
        pass  # no fast tier in this installation
    else:
        assert "quality fast at this size" in message
    assert costs.admit("upscale", {"factor": 4, "kind": "art"}, [_info(2000, 1500)])


def test_rerunning_a_job_that_no_longer_fits_is_refused(alice_client, alice, settings):
    job = make_job(alice, "dehaze", image_bytes(400, 300))
    OperationCost.objects.create(
        key=job.cost_key, operation="dehaze", overhead_seconds=0, seconds_per_megapixel=1e5
    )
    response = alice_client.post(reverse("history:rerun", args=[job.uuid]), follow=True)
    assert "would take" in response.content.decode()
    assert Job.objects.count() == 1


def test_the_rest_api_refuses_with_problem_json(client, alice, settings):
    from apps.accounts.models import ApiClient

    settings.ENHANCER_JOB_SOFT_TIME_LIMIT = 60
    _, secrets = ApiClient.issue(alice, "app", daily_quota=0, rate_limit_per_minute=0)
    response = client.post(
        "/api/jobs/",
        {"files": [SimpleUploadedFile("a.png", image_bytes(800, 600), "image/png")],
         "operation": "upscale", "params": '{"factor": 4}'},
        HTTP_AUTHORIZATION=f"Token {secrets['token']}",
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "over_time_limit" and "What would fit" in problem["detail"]
    assert not Job.objects.exists()


def test_the_rest_api_shows_eta_and_queue_position(client, alice):
    from apps.accounts.models import ApiClient

    _, secrets = ApiClient.issue(alice, "app", daily_quota=0, rate_limit_per_minute=0)
    auth = {"HTTP_AUTHORIZATION": f"Token {secrets['token']}"}
    for name in ("a.png", "b.png"):
        client.post(
            "/api/jobs/",
            {"files": [SimpleUploadedFile(name, image_bytes(), "image/png")], "operation": "contrast"},
            **auth,
        )
    listed = client.get("/api/jobs/", **auth).json()["results"]
    assert sorted(job["queue_position"] for job in listed) == [1, 2]
    assert all(job["eta_seconds"] >= 1 and job["cost_class"] == "light" for job in listed)


def test_calibration_measures_the_light_operations_here():
    call_command("calibrate_costs", "contrast", "--scale", "0.25")
    row = OperationCost.objects.get(key="contrast")
    assert row.source == "calibrated" and row.seconds_per_megapixel >= 0
    assert row.seconds(1.0) < 60


class _info:
    def __init__(self, width: int, height: int) -> None:
        self.info = type("Info", (), {"width": width, "height": height})


def test_a_list_page_reads_every_job_status_at_once(alice_client, alice, bob):
    jobs = [make_job(alice, "upscale", params={"factor": 4, "kind": "photo", "quality": "best"})
            for _ in range(3)]
    Job.objects.filter(id=jobs[0].id).update(status=Job.Status.RUNNING, started_at=timezone.now())
    theirs = make_job(bob, "contrast")
    ids = ",".join(str(job.uuid) for job in [*jobs, theirs]) + ",not-a-uuid"
    answer = alice_client.get(reverse("uploads:statuses"), {"ids": ids}).json()["jobs"]
    by_id = {item["id"]: item for item in answer}
    assert set(by_id) == {str(job.uuid) for job in jobs}  # bob's job is not alice's to see
    assert [by_id[str(job.uuid)]["queue_position"] for job in jobs] == [None, 1, 2]
    assert "next in line" in by_id[str(jobs[1].uuid)]["eta_text"]
    assert "2nd in line" in by_id[str(jobs[2].uuid)]["eta_text"]
    assert by_id[str(jobs[0].uuid)]["eta_text"].endswith("left")
