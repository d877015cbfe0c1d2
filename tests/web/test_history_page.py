"""History: filters, pagination that keeps them, bulk delete, a zip of every result, and job
errors shown in the visitor's language."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse

from apps.imaging import codec, operations
from apps.imaging.errors import EnhancerError
from apps.providers import vk
from apps.providers.http import produced
from apps.uploads import running
from apps.uploads.models import Job
from apps.uploads.tasks import process_job
from tests.helpers import image_bytes
from tests.uploads.factories import make_job

pytestmark = pytest.mark.django_db


def names(html: str, jobs) -> set[str]:
    return {job.input_name for job in jobs if str(job.uuid) in html}


def test_filters_by_operation_and_status(alice_client, alice):
    contrast = make_job(alice, "contrast", name="c.png")
    dehaze = make_job(alice, "dehaze", name="d.png")
    failed = make_job(alice, "dehaze", name="f.png")
    running.fail(failed.id, EnhancerError(EnhancerError.INTERNAL, "An internal error stopped the job."))
    everything = [contrast, dehaze, failed]
    url = reverse("history:list")
    assert names(alice_client.get(url).content.decode(), everything) == {"c.png", "d.png", "f.png"}
    assert names(alice_client.get(url, {"operation": "dehaze"}).content.decode(), everything) == {"d.png", "f.png"}
    html = alice_client.get(url, {"operation": "dehaze", "status": "failed"}).content.decode()
    assert names(html, everything) == {"f.png"}
    assert "An internal error stopped the job." in html
    # Nonsense filters are ignored, not an error page.
    assert alice_client.get(url, {"operation": "nope"}).status_code == 200


def test_page_links_keep_the_filters(alice_client, alice, monkeypatch):
    monkeypatch.setattr("apps.history.views.PAGE_SIZE", 2)
    for index in range(5):
        make_job(alice, "contrast", name=f"p{index}.png")
    html = alice_client.get(reverse("history:list"), {"operation": "contrast", "page": 2}).content.decode()
    assert "?operation=contrast&amp;page=1" in html and "?operation=contrast&amp;page=3" in html
    assert "Page 2 of 3" in html


def test_bulk_delete_removes_only_my_chosen_jobs(alice_client, alice, bob, django_capture_on_commit_callbacks):
    keep, first, second = (make_job(alice, name=f"{n}.png") for n in ("keep", "one", "two"))
    theirs = make_job(bob, name="theirs.png")
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(
            reverse("history:bulk_delete"),
            {"jobs": [first.uuid, second.uuid, theirs.uuid, "not-a-uuid"], "next": "/history/?status=queued"},
        )
    assert response.status_code == 302 and response["Location"] == "/history/?status=queued"
    assert set(Job.objects.values_list("input_name", flat=True)) == {"keep.png", "theirs.png"}
    assert not first.input_file.storage.exists(first.input_file.name)
    assert keep.input_file.storage.exists(keep.input_file.name)
    page = alice_client.get(reverse("history:list")).content.decode()
    assert "2 jobs and their files were deleted." in page


def test_bulk_delete_does_not_follow_a_foreign_next(alice_client, alice):
    job = make_job(alice)
    response = alice_client.post(reverse("history:bulk_delete"), {"jobs": [job.uuid], "next": "https://evil.example/"})
    assert response["Location"] == reverse("history:list")


def test_all_results_download_as_one_zip(alice_client, alice):
    job = make_job(alice, "contrast", name="holiday.png")
    process_job.apply(args=[job.id])
    response = alice_client.get(reverse("history:zip", args=[job.uuid]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'filename="holiday-contrast.zip"' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    output = job.outputs.get()
    assert archive.namelist() == ["holiday-contrasted.png"]
    with output.file.open("rb") as handle:
        assert archive.read("holiday-contrasted.png") == handle.read()


def test_a_job_without_results_has_no_zip(alice_client, alice):
    job = make_job(alice)
    assert alice_client.get(reverse("history:zip", args=[job.uuid])).status_code == 404


def _fail(job, error: EnhancerError, language: str, client) -> tuple[str, dict]:
    """The job failed with ``error``: its detail page and its status JSON in ``language``."""
    running.fail(job.id, error)
    client.post(reverse("set_language"), {"language": language})
    page = client.get(reverse("history:detail", args=[job.uuid])).content.decode()
    return page, client.get(reverse("uploads:status", args=[job.uuid])).json()


def _raised(call) -> EnhancerError:
    with pytest.raises(EnhancerError) as caught:
        call()
    return caught.value


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ru", "Размер изображения 20x20; каждая сторона должна быть не меньше 48 пикс."),
     ("zh-hans", "图像尺寸为 20x20；每条边至少需要 48 像素。")],
)
def test_a_failed_jobs_message_is_translated_when_shown(alice_client, alice, language, expected):
    small = _raised(lambda: codec.inspect(image_bytes(20, 20), codec.Limits(min_side=48)))
    page, status = _fail(make_job(alice), small, language, alice_client)
    assert expected in page
    assert status["error_text"] == expected
    # The stored message, which the APIs answer, stays English.
    assert status["error_message"] == "The image is 20x20; each side must be at least 48 px."


@pytest.mark.parametrize(
    ("error", "russian"),
    [
        (lambda: _raised(lambda: operations.get("upscale").clean_params({"factor": 3})),
         "Во сколько раз увеличить: допустимо 2 или 4, получено 3."),
        (lambda: vk._envelope_error(400, "invalid image size"),
         "Ошибка сервиса VK Cloud Vision: invalid image size"),
        (lambda: _raised(lambda: produced("Baidu image-process", "improved", b"not a picture")),
         "Baidu image-process прислал нечитаемое изображение: Этот файл не является изображением, которое мы можем прочитать."),
    ],
)
def test_engine_and_provider_errors_read_in_russian_with_no_english_sentence(alice_client, alice, error, russian):
    error = error()
    page, status = _fail(make_job(alice), error, "ru", alice_client)
    assert status["error_text"] == russian
    assert russian in page
    assert status["error_message"] == error.message  # what the APIs answer stays English


def test_an_old_rows_message_follows_its_codes_sentence_in_other_languages(alice_client, alice):
    """Rows failed before templates were kept have only the English text."""
    job = make_job(alice)
    Job.objects.filter(id=job.id).update(
        status=Job.Status.FAILED, error_code=EnhancerError.TEMPORARY, error_message="VK Cloud Vision: quota exceeded"
    )
    status = alice_client.get(reverse("uploads:status", args=[job.uuid])).json()
    assert status["error_text"] == "VK Cloud Vision: quota exceeded"
    alice_client.post(reverse("set_language"), {"language": "ru"})
    status = alice_client.get(reverse("uploads:status", args=[job.uuid])).json()
    assert status["error_text"] == "Временная неполадка; задание будет повторено. (VK Cloud Vision: quota exceeded)"


def test_a_retried_jobs_reason_is_translated_inside_retrying(alice_client, alice):
    from apps.providers.http import Http

    job = make_job(alice)
    Job.objects.filter(id=job.id).update(status=Job.Status.RUNNING)
    quiet = Http("VK Cloud Vision", timeout=1, retries=0)
    quiet.session.request = lambda *args, **kwargs: type("Answer", (), {"status_code": 503})()
    running.requeue(job.id, _raised(lambda: quiet.request("POST", "https://vk.example/")))
    job.refresh_from_db()
    assert job.error_message == "Retrying: VK Cloud Vision is not answering (HTTP 503)."
    alice_client.post(reverse("set_language"), {"language": "ru"})
    status = alice_client.get(reverse("uploads:status", args=[job.uuid])).json()
    assert status["error_text"] == "Повтор: VK Cloud Vision не отвечает (HTTP 503)."


@pytest.mark.parametrize(
    ("seconds", "position", "en", "ru", "zh"),
    [(130, 3, "about 2 min · 3rd in line", "около 2 мин · 3-й в очереди", "约 2 分钟 · 排在第 3 位"),
     (40, 1, "about 40 s · next in line", "около 40 с · следующий в очереди", "约 40 秒 · 下一个处理"),
     (5, None, "a few seconds left", "осталось несколько секунд", "剩余几秒钟")],
)
def test_the_queue_wait_is_said_in_the_page_language(seconds, position, en, ru, zh):
    from django.utils import translation

    from apps.uploads.operation_text import describe_wait

    for language, expected in (("en", en), ("ru", ru), ("zh-hans", zh)):
        with translation.override(language):
            assert describe_wait(seconds, position) == expected
