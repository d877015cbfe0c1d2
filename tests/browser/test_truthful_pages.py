"""The browser tells the truth and always gives a result (issue 23): a mixed batch sends its good
photos and marks each bad one; restoring the landing page's own example gives a restored photo;
a visitor never reads the operator's words; the language list waits for a confirmation from the
keyboard; Russian counts take their plural forms. Debian's Chromium, a live server, a real worker."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from apps.imaging import colorize, faces, operations
from apps.uploads.models import Job

from .conftest import axe_problems, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-passphrase-42"
EXAMPLES = Path(__file__).resolve().parents[2] / "static" / "img" / "examples"
OPERATOR_WORDS = re.compile(r"README|install_model|\.tflite|\.onnx|Done by", re.IGNORECASE)


def _bad_files(tmp_path: Path, fixture_path) -> tuple[Path, Path]:
    truncated = tmp_path / "cut.jpg"
    data = fixture_path("photos/hazy_forest.jpg").read_bytes()
    truncated.write_bytes(data[: len(data) // 2])  # the browser still draws the top half
    notes = tmp_path / "notes.jpg"
    notes.write_text("a shopping list, not a photo")
    return truncated, notes


@pytest.mark.slow
@pytest.mark.parametrize(
    ("language", "summary", "truncated_reason", "text_reason"),
    [
        ("en", "1 photo was sent. 1 was left out: it is marked with the reason.",
         "The image file is corrupt or truncated.", "The file is not an image we can read."),
        # Russian counts: "1 фотография", not "1 фотографий".
        ("ru", "Отправлена 1 фотография. 1 не отправлена: у неё указана причина.",
         "Файл изображения повреждён или обрезан.", "Этот файл не является изображением"),
    ],
)
def test_a_mixed_batch_sends_the_good_photo_and_marks_each_bad_one(
    browser, live_server, celery_worker_process, django_user_model, fixture_path, tmp_path,
    language, summary, truncated_reason, text_reason,
):
    django_user_model.objects.create_user("gail", password=PASSWORD)
    context = browser.new_context(locale=language, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    log_in(page, live_server.url, "gail", PASSWORD)
    page.goto(live_server.url + "/upload/")
    truncated, notes = _bad_files(tmp_path, fixture_path)
    good = fixture_path("photos/hazy_canon.bmp")
    page.set_input_files("input[type=file]", [str(truncated), str(notes), str(good)])
    # The browser itself can tell only the text file apart; the server finds the truncation.
    page.wait_for_selector("#chosen-files li.refused .file-error")
    page.wait_for_function("document.querySelectorAll('#chosen-files li .facts-line').length === 3")
    page.check("#op-contrast")
    page.click("main button[type=submit]")

    alert = page.locator("#upload-alert")
    page.wait_for_selector("#upload-alert:not([hidden]) a")
    assert alert.inner_text().startswith(summary)
    assert "warning" in alert.get_attribute("class")  # not the green of success
    refused = page.locator("#chosen-files li.refused")
    assert refused.count() == 2
    reasons = {item.get_attribute("data-name"): item.locator(".file-error").inner_text()
               for item in refused.all()}
    assert reasons["cut.jpg"] == truncated_reason
    assert reasons["notes.jpg"].startswith(text_reason)
    assert page.locator("#chosen-files li.preview").count() == 2  # the sent one left the list
    assert list(Job.objects.values_list("input_name", flat=True)) == ["hazy_canon.bmp"]
    assert axe_problems(page) == []

    page.click("#upload-alert a")
    page.wait_for_url("**/history/**")
    page.wait_for_function("document.querySelector('#job').dataset.finished === '1'", timeout=120_000)
    context.close()


@pytest.mark.slow
def test_restoring_the_landing_pages_examples_gives_restored_photos(
    page, live_server, celery_worker_process, django_user_model, fixture_path
):
    # The 179 px JPEG the landing page's upscale example was made from (it says "179×179 in"),
    # and the landing page's own restore "before" picture, as a visitor would save them.
    upscale_source = fixture_path("photos/lowres_0014.jpg")
    restore_before = EXAMPLES / "restore-before.jpg"
    django_user_model.objects.create_user("hana", password=PASSWORD)
    log_in(page, live_server.url, "hana", PASSWORD)
    page.goto(live_server.url + "/upload/")
    page.set_input_files("input[type=file]", [str(upscale_source), str(restore_before)])
    page.wait_for_function("document.querySelectorAll('#chosen-files li .facts-line').length === 2")
    page.check("#op-restore")
    page.click("main button[type=submit]")
    page.wait_for_url("**/history/")
    page.wait_for_function("document.querySelectorAll('li.job.succeeded').length === 2", timeout=180_000)
    for job in Job.objects.all():
        assert [output.kind for output in job.outputs.all()] == ["improved"], job.input_name

    gentle = Job.objects.get(input_name="lowres_0014.jpg")
    page.reload()
    hint = page.locator(f"li.job[data-job='{gentle.uuid}'] [data-role=hint]")
    assert hint.inner_text() == "little needed repair: a gentle correction"
    page.goto(live_server.url + f"/history/{gentle.uuid}/")
    page.wait_for_selector("[data-role=compare] img.after")
    page.click("details.tech summary")
    details = page.inner_text("details.tech")
    assert "Found\nnothing above the repair thresholds" in details
    assert "a gentle clean-up by a neural network, at half strength" in details
    assert "{" not in details and "'" not in details  # no raw dict
    assert not OPERATOR_WORDS.search(page.inner_text("body"))


def test_a_visitor_never_reads_the_operators_words(
    page, live_server, django_user_model, monkeypatch
):
    # No colorizer and no emotion model, with the engine's own (operator-facing) reasons.
    monkeypatch.setattr(colorize, "unavailable_reason", lambda: colorize.UNAVAILABLE)
    monkeypatch.setitem(
        operations.REGISTRY, "colorize",
        replace(operations.REGISTRY["colorize"], unavailable_reason=lambda: colorize.UNAVAILABLE),
    )
    monkeypatch.setattr(faces, "emotion_unavailable_reason", lambda: faces.EMOTION_UNAVAILABLE)

    page.goto(live_server.url + "/")
    landing = page.inner_text("main")
    assert not OPERATOR_WORDS.search(landing)
    assert page.locator(".example[data-operation=colorize]").count() == 0  # not advertised
    assert "colorized version" not in landing  # the improve example shows none

    django_user_model.objects.create_user("ivan", password=PASSWORD)
    log_in(page, live_server.url, "ivan", PASSWORD)
    page.goto(live_server.url + "/upload/")
    upload = page.inner_text("main")
    assert not OPERATOR_WORDS.search(upload)
    assert "Colorize is not available on this server." in upload
    page.goto(live_server.url + "/faces/")
    page.fill("#id_name", "Family")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/faces/spaces/**")
    page.goto(page.url + "recognize/")
    recognize = page.inner_text("main")
    assert not OPERATOR_WORDS.search(recognize)
    assert "Emotion, valence and arousal are not measured on this server." in recognize


def test_the_language_list_waits_for_a_confirmation_from_the_keyboard(page, live_server):
    page.goto(live_server.url + "/accounts/login/")
    url = page.url
    # No invisible control to tab onto: the button is gone until another language is chosen.
    hidden_at_first = page.is_hidden("[data-role=language-submit]")
    page.focus("#language-select")
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(800)  # long enough for a submit to have navigated
    assert page.url == url and page.get_attribute("html", "lang") == "en"
    assert hidden_at_first
    assert page.is_visible("[data-role=language-submit]")
    page.keyboard.press("Enter")
    page.wait_for_function("document.documentElement.lang === 'ru'")
    assert page.inner_text("h1") == "Войти"
