"""A person signs up, uploads photos, watches them finish, compares and downloads."""

from __future__ import annotations

import pytest
from PIL import Image

from apps.uploads.models import Job
from tests.helpers import image_bytes

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_sign_up_upload_watch_compare_download(
    page, live_server, celery_worker_process, fixture_path, tmp_path, settings
):
    hazy = fixture_path("photos/hazy_forest.jpg")
    second = tmp_path / "gradient.png"
    second.write_bytes(image_bytes(160, 120))

    page.goto(live_server.url + "/accounts/signup/")
    page.fill("#id_username", "carol")
    page.fill("#id_email", "carol@example.com")
    page.fill("#id_password1", "a-long-passphrase-42")
    page.fill("#id_password2", "a-long-passphrase-42")
    page.click("main button[type=submit]")
    page.wait_for_url("**/upload/")

    # The upscale options only show for upscale.
    page.check("input[name=operation][value=dehaze]")
    assert page.is_hidden("fieldset.params[data-for=upscale]")
    page.set_input_files("input[type=file]", [str(hazy), str(second)])
    assert "hazy_forest.jpg" in page.inner_text("#chosen-files")
    page.click("main button[type=submit]")
    page.wait_for_url("**/history/")
    assert page.locator("li.job").count() == 2

    # Both cards turn "succeeded" through the page's own polling.
    page.wait_for_function(
        "document.querySelectorAll('li.job.succeeded').length === 2", timeout=90_000
    )
    job = Job.objects.get(input_name="hazy_forest.jpg")
    page.click(f"li.job[data-job='{job.uuid}'] a >> nth=0")
    page.wait_for_selector("[data-role=compare]")
    page.fill("[data-role=compare] .slider", "80")
    clip = page.eval_on_selector("[data-role=compare] .after-wrap", "e => e.style.clipPath")
    assert clip == "inset(0px 0px 0px 80%)"
    page.screenshot(path=str(settings.MEDIA_ROOT.parent / "detail.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("text=Download dehazed")
    path = download_info.value.path()
    result = Image.open(path)
    assert result.size == Image.open(hazy).size
    assert download_info.value.suggested_filename == "hazy_forest-dehazed.jpg"


def test_a_bad_file_is_refused_on_the_page(page, live_server, django_user_model, tmp_path):
    django_user_model.objects.create_user("dave", password="a-long-passphrase-42")
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "dave")
    page.fill("#id_password", "a-long-passphrase-42")
    page.click("main button[type=submit]")
    page.wait_for_url("**/history/")
    assert "No jobs yet" in page.inner_text("main")
    page.click("text=Enhance a photo")
    page.wait_for_url("**/upload/")
    bad = tmp_path / "notes.jpg"
    bad.write_text("not a photo at all")
    page.set_input_files("input[type=file]", str(bad))
    page.click("main button[type=submit]")
    page.wait_for_selector(".errorlist")
    assert "notes.jpg: The file is not an image we can read." in page.inner_text(".errorlist")
    assert Job.objects.count() == 0
