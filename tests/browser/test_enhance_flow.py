"""A visitor finds the site, signs up, drops photos, watches them finish, compares, downloads
everything, and tidies up the history — in Debian's Chromium, against a live server and a real
worker, with axe-core checking every page on the way."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from apps.uploads.models import Job

from .conftest import axe_problems, drop_files

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def clip(page) -> str:
    return page.eval_on_selector("#job [data-role=after-wrap]", "e => e.style.clipPath")


def test_from_landing_page_to_results_and_a_tidy_history(
    page, live_server, celery_worker_process, fixture_path, tmp_path, shoot
):
    hazy = fixture_path("photos/hazy_forest.jpg")
    canon = fixture_path("photos/hazy_canon.bmp")
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a photo at all")

    # The landing page says what the site does, with real examples, and leads to sign-up.
    page.goto(live_server.url + "/")
    assert page.locator(".example[data-operation=dehaze] img.after").count() == 1
    assert axe_problems(page) == []
    shoot(page, "landing", full_page=True)
    page.click(".hero >> text=Sign up")
    page.fill("#id_username", "carol")
    page.fill("#id_email", "carol@example.com")
    page.fill("#id_password1", "a-long-passphrase-42")
    page.fill("#id_password2", "a-long-passphrase-42")
    page.click("main button[type=submit]")
    page.wait_for_url("**/upload/")

    # Two photos dropped, one picked; the bad one is marked on its own card and left out.
    drop_files(page, "#dropzone", [hazy, notes])
    page.set_input_files("input[type=file]", [str(canon)])
    page.wait_for_selector("#chosen-files li.preview.refused .file-error")
    assert page.locator("#chosen-files li.preview").count() == 3
    refused = page.locator("#chosen-files li.refused")
    assert refused.count() == 1 and "notes.jpg" in refused.inner_text()
    assert "The file is not an image we can read." in refused.inner_text()
    page.check("#op-dehaze")
    assert page.is_hidden("fieldset.params[data-for=upscale]")
    page.wait_for_function(
        "document.querySelector('[data-estimate-for=dehaze]').textContent.includes('Time for the chosen photos')"
    )
    page.check("#op-upscale")
    assert page.is_visible("fieldset.params[data-for=upscale]")
    page.check("#op-dehaze")
    assert axe_problems(page) == []
    shoot(page, "upload", full_page=True)
    page.click("main button[type=submit]")
    page.wait_for_url("**/history/")
    assert page.locator("li.job").count() == 2
    assert Job.objects.filter(input_name="notes.jpg").count() == 0

    # Both bars reach done through the page's own polling.
    page.wait_for_function("document.querySelectorAll('li.job.succeeded').length === 2", timeout=120_000)
    assert page.locator("li.job [data-role=status]").all_text_contents() == ["done", "done"]
    assert axe_problems(page) == []
    shoot(page, "history")

    # Results: the split follows the keyboard and the pointer; 100 % zoom pans by dragging.
    job = Job.objects.get(input_name="hazy_forest.jpg")
    page.click(f"li.job[data-job='{job.uuid}'] .title-row a")
    page.wait_for_selector("[data-role=compare] img.after")
    page.wait_for_function("document.querySelector('[data-role=compare] img.after').complete")
    page.focus("#split")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert clip(page) == "inset(0px 0px 0px 52%)"
    stage = page.locator("[data-role=stage]").bounding_box()
    page.mouse.move(stage["x"] + stage["width"] * 0.25, stage["y"] + stage["height"] / 2)
    page.mouse.down()
    page.mouse.move(stage["x"] + stage["width"] * 0.3, stage["y"] + stage["height"] / 2, steps=4)
    page.mouse.up()
    assert clip(page) == "inset(0px 0px 0px 30%)"
    assert page.input_value("#split") == "30"
    assert axe_problems(page) == []
    shoot(page, "compare", full_page=True)

    page.click("[data-role=zoom][data-level='1']")
    assert page.get_attribute("[data-role=zoom][data-level='1']", "aria-pressed") == "true"
    assert page.evaluate("document.querySelector('[data-role=stage]').offsetWidth") == 1024
    viewport = page.locator("[data-role=viewport]").bounding_box()
    before = page.evaluate("document.querySelector('[data-role=viewport]').scrollTop")
    page.mouse.move(viewport["x"] + 200, viewport["y"] + 300)
    page.mouse.down()
    page.mouse.move(viewport["x"] + 200, viewport["y"] + 260, steps=4)
    page.mouse.up()
    after = page.evaluate("document.querySelector('[data-role=viewport]').scrollTop")
    assert after == before + 40
    assert page.input_value("#split") == "30"  # panning leaves the split alone

    with page.expect_download() as download_info:
        page.click("text=Download all (zip)")
    assert download_info.value.suggested_filename == "hazy_forest-dehaze.zip"
    archive = zipfile.ZipFile(download_info.value.path())
    assert archive.namelist() == ["hazy_forest-dehazed.jpg"]
    assert Image.open(io.BytesIO(archive.read("hazy_forest-dehazed.jpg"))).size == Image.open(hazy).size

    # History: filters, then delete one job of the two.
    page.goto(live_server.url + "/history/")
    page.select_option("#id_operation", "contrast")
    page.wait_for_url("**operation=contrast**")
    assert "No job matches these filters." in page.inner_text("main")
    page.select_option("#id_operation", "dehaze")
    page.wait_for_url("**operation=dehaze**")
    assert page.locator("li.job").count() == 2
    page.check(f"li.job[data-job='{job.uuid}'] input[name=jobs]")
    assert page.inner_text("[data-role=selected-count]") == "1 selected"
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=Delete selected")
    page.wait_for_selector(".message")
    assert "1 job and its files were deleted." in page.inner_text(".messages")
    assert "operation=dehaze" in page.url
    assert page.locator("li.job").count() == 1
    assert list(Job.objects.values_list("input_name", flat=True)) == ["hazy_canon.bmp"]
