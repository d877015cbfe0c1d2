"""What a person sees of their results and on a phone, in Debian's Chromium: Start on screen
while choosing, before/after zoom levels with labels that stay put, history tiles that show the
result, several jobs' results as one zip, and face results that a phone can read."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from apps.face_registry import services as faces
from apps.imaging import codec
from apps.imaging import faces as face_engine
from apps.uploads.models import Job
from apps.uploads.tasks import process_job
from tests.uploads.factories import make_job

from .conftest import axe_problems, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-passphrase-42"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def on_screen(page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    height = page.evaluate("window.innerHeight")
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def finished(owner, fixture_path, name: str, operation: str = "contrast") -> Job:
    """A job run to the end in this process (the pages only read it)."""
    job = make_job(owner, operation, fixture_path(f"photos/{name}").read_bytes(), name=name)
    process_job.apply(args=[job.id])
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error_message
    return job


def test_on_a_phone_start_stays_on_screen_and_nothing_asks_to_drop(
    phone, live_server, django_user_model, fixture_path, shoot
):
    django_user_model.objects.create_user("gale", password=PASSWORD)
    log_in(phone, live_server.url, "gale", PASSWORD)
    phone.goto(live_server.url + "/upload/")
    # The form is taller than the screen, yet Start is on the first one, without scrolling.
    assert phone.evaluate("document.documentElement.scrollHeight") > 844
    assert on_screen(phone, "#upload-form button[type=submit]")
    assert phone.is_visible("text=Choose photos")
    assert "drop them here" not in phone.inner_text("main")
    phone.set_input_files("input[type=file]", [str(fixture_path("photos/hazy_forest.jpg"))])
    phone.wait_for_selector("#chosen-files li.preview img.thumb")
    phone.check("#op-dehaze")
    phone.locator("#op-upscale").scroll_into_view_if_needed()
    assert on_screen(phone, "#upload-form button[type=submit]")  # half-way down, still there
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert axe_problems(phone) == []
    shoot(phone, "phone-upload")


def test_compare_zooms_to_fixed_levels_and_by_wheel_with_labels_held_still(
    page, live_server, django_user_model, fixture_path, shoot
):
    user = django_user_model.objects.create_user("hana", password=PASSWORD)
    job = finished(user, fixture_path, "hazy_canon.bmp")  # a 400x600 portrait
    log_in(page, live_server.url, "hana", PASSWORD)
    page.goto(f"{live_server.url}/history/{job.uuid}/")
    page.wait_for_function("document.querySelector('[data-role=compare] img.after').complete")
    stage_width = "document.querySelector('[data-role=stage]').offsetWidth"

    # Fitted, a portrait gets a frame its own shape, not a wide dark box around a narrow picture.
    viewport = page.locator("[data-role=viewport]").bounding_box()
    stage = page.locator("[data-role=stage]").bounding_box()
    assert abs(viewport["width"] - stage["width"]) <= 1 and viewport["width"] < 500
    assert abs(stage["height"] - 900 * 0.75) <= 2
    assert page.get_attribute("[data-level=fit]", "aria-pressed") == "true"
    assert axe_problems(page) == []

    for level, width in (("2", 800), ("4", 1600), ("1", 400)):
        page.click(f"[data-role=zoom][data-level='{level}']")
        assert page.evaluate(stage_width) == width, level
        assert page.get_attribute(f"[data-role=zoom][data-level='{level}']", "aria-pressed") == "true"
        assert page.get_attribute("[data-level=fit]", "aria-pressed") == "false"
        assert page.inner_text("[data-role=zoom-readout]") == f"{int(level) * 100}%"

    # At 400 % dragging pans; the before/after labels stay in the frame's corners.
    page.click("[data-role=zoom][data-level='4']")
    labels = [page.locator(f"[data-role=compare] .label.{side}").bounding_box() for side in ("left", "right")]
    viewport = page.locator("[data-role=viewport]").bounding_box()
    start = page.evaluate("[document.querySelector('[data-role=viewport]').scrollLeft, "
                          "document.querySelector('[data-role=viewport]').scrollTop]")
    page.mouse.move(viewport["x"] + 300, viewport["y"] + 300)  # away from the split line
    page.mouse.down()
    page.mouse.move(viewport["x"] + 180, viewport["y"] + 220, steps=5)
    page.mouse.up()
    moved = page.evaluate("[document.querySelector('[data-role=viewport]').scrollLeft, "
                          "document.querySelector('[data-role=viewport]').scrollTop]")
    assert moved == [start[0] + 120, start[1] + 80]
    assert [page.locator(f"[data-role=compare] .label.{side}").bounding_box()
            for side in ("left", "right")] == labels
    left, right = labels
    assert viewport["x"] <= left["x"] and right["x"] + right["width"] <= viewport["x"] + viewport["width"]
    assert page.input_value("#split") == "50"  # panning leaves the split alone
    page.evaluate("document.querySelector('[data-role=compare]').scrollIntoView()")
    shoot(page, "compare-zoomed")

    # Back to fit, then Ctrl + wheel (what a trackpad pinch sends) zooms in around the pointer
    # and out again to fit; a plain wheel at fit size scrolls the page instead.
    page.click("[data-role=zoom][data-level=fit]")
    assert page.evaluate(stage_width) == round(stage["width"])
    box = page.locator("[data-role=viewport]").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.keyboard.down("Control")
    page.mouse.wheel(0, -400)
    page.wait_for_function(f"{stage_width} > {round(stage['width']) + 50}")
    zoomed_to = page.evaluate(stage_width)
    assert abs(int(page.inner_text("[data-role=zoom-readout]").rstrip("%")) - zoomed_to / 4) <= 1
    page.mouse.wheel(0, 4000)
    page.wait_for_function("document.querySelector('[data-role=compare]').dataset.zoom === 'fit'")
    page.keyboard.up("Control")
    assert page.get_attribute("[data-level=fit]", "aria-pressed") == "true"

    # Two fingers spread apart on a touch screen zoom in too.
    client = page.context.new_cdp_session(page)
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    def touch(kind: str, spread: float) -> None:
        points = [] if kind == "touchEnd" else [
            {"x": centre[0] - spread, "y": centre[1], "id": 1},
            {"x": centre[0] + spread, "y": centre[1], "id": 2},
        ]
        client.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", 40)
    for spread in (60, 90, 120, 160):
        touch("touchMove", spread)
    touch("touchEnd", 0)
    assert page.evaluate(stage_width) >= round(stage["width"] * 3.5)


def test_history_tiles_show_results_and_selected_results_download_as_one_zip(
    page, live_server, django_user_model, fixture_path, shoot
):
    user = django_user_model.objects.create_user("ivan", password=PASSWORD)
    forest = finished(user, fixture_path, "hazy_forest.jpg", "dehaze")
    canon = finished(user, fixture_path, "hazy_canon.bmp")
    waiting = make_job(user, "contrast", fixture_path("photos/lowres_0014.jpg").read_bytes(),
                       name="lowres_0014.jpg")
    log_in(page, live_server.url, "ivan", PASSWORD)
    page.goto(live_server.url + "/history/")

    for job in (forest, canon):
        tile = page.locator(f"li.job[data-job='{job.uuid}'] img")
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=tile.element_handle())
        shown = page.request.get(live_server.url + tile.get_attribute("src")).body()
        with job.outputs.first().file.open("rb") as handle:
            assert shown == codec.thumbnail(handle.read()), job.input_name
        with job.thumbnail.open("rb") as handle:
            assert shown != handle.read()
    assert "thumbnail" in page.locator(f"li.job[data-job='{waiting.uuid}'] img").get_attribute("src")
    assert axe_problems(page) == []
    shoot(page, "history")

    assert page.is_disabled("[data-role=download-selected]")
    for job in (forest, canon, waiting):
        page.check(f"li.job[data-job='{job.uuid}'] input[name=jobs]")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    with page.expect_download() as download_info:
        page.click("[data-role=download-selected]")
    assert dialogs == []  # downloading asks nothing; only deleting does
    assert download_info.value.suggested_filename == "enhancer-2-jobs.zip"
    archive = zipfile.ZipFile(download_info.value.path())
    assert sorted(archive.namelist()) == [
        "hazy_canon-contrast/hazy_canon-contrasted.png",
        "hazy_forest-dehaze/hazy_forest-dehazed.jpg",
    ]
    picture = Image.open(io.BytesIO(archive.read("hazy_forest-dehaze/hazy_forest-dehazed.jpg")))
    assert picture.size == (1024, 768)
    assert Job.objects.count() == 3  # nothing was deleted on the way


@pytest.mark.slow
@pytest.mark.skipif(face_engine.available() is not None, reason=str(face_engine.available()))
def test_face_results_on_a_phone_name_sex_age_similarity_in_readable_labels(
    phone, live_server, django_user_model, fixture_path, shoot
):
    user = django_user_model.objects.create_user("jude", password=PASSWORD)
    space = faces.create_space(user, "Family")
    faces.set_face(space, 1, fixture_path("faces/obama.jpg").read_bytes(), "obama.jpg")
    person = space.persons.get()
    faces.rename_person(person, "Barack")
    log_in(phone, live_server.url, "jude", PASSWORD)

    # The space and the person go by their names; enrolment picks a person by name, with the
    # same picker as the upload page.
    for path in (f"/faces/spaces/{space.uuid}/", f"/faces/persons/{person.uuid}/"):
        phone.goto(live_server.url + path)
        assert "space 0" not in phone.inner_text("main").lower(), path
        assert phone.is_visible("main label.button >> text=Choose photos"), path
        assert "drop" not in phone.inner_text("main form[enctype]").lower(), path
        assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        assert axe_problems(phone) == [], path
    assert "in Family" in phone.inner_text("h1")
    phone.goto(f"{live_server.url}/faces/spaces/{space.uuid}/")
    assert phone.locator("#enroll-form select[name=person_id] option").all_inner_texts() == [
        "A new person", "Barack"]

    phone.goto(f"{live_server.url}/faces/spaces/{space.uuid}/recognize/")
    # A styled picker, as on the upload page; a phone is not asked to drop anything.
    assert phone.is_visible("#recognize-form label.button >> text=Choose a photo")
    assert phone.is_hidden("#recognize-form input[type=file]") or phone.evaluate(
        "document.querySelector('#recognize-form input[type=file]').classList.contains('visually-hidden')")
    assert "drop" not in phone.inner_text("#recognize-form").lower()
    phone.set_input_files("#recognize-form input[type=file]", [str(fixture_path("faces/two_people.jpg"))])
    phone.click("#recognize-form button[type=submit]")
    phone.wait_for_selector("#recognized .face-label")

    labels = phone.locator("#recognized .face-label")
    assert labels.count() == 2
    for index in range(2):
        for part in (".face-name", ".face-attributes"):
            size = labels.nth(index).locator(part).evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
            assert size >= 12, (index, part, size)
    photo = phone.locator("#recognized .recognized-photo").bounding_box()
    for index in range(2):
        box = labels.nth(index).bounding_box()
        assert photo["x"] <= box["x"] and box["x"] + box["width"] <= photo["x"] + photo["width"] + 0.5
    assert "Barack" in labels.all_inner_texts()[0] + labels.all_inner_texts()[1]

    table = phone.locator("[data-role=faces-table]")
    assert table.locator("thead th").all_inner_texts() == ["Person", "Sex", "Age", "Similarity"]
    rows = {row.split("\t")[0]: row.split("\t")[1:] for row in table.locator("tbody tr").all_inner_texts()}
    assert set(rows) == {"Barack", "unknown"}
    sex, age, similarity = rows["Barack"]
    assert sex == "male" and age.isdigit() and similarity.endswith("%") and int(similarity[:-1]) >= 90
    assert rows["unknown"][2] == "—"
    # Developer measurements are there, folded.
    assert phone.is_hidden("text=Awesomeness")
    phone.click("[data-role=measurements] summary")
    assert phone.is_visible("text=Awesomeness")
    phone.click("[data-role=measurements] summary")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert axe_problems(phone) == []
    shoot(phone, "phone-recognize", full_page=True)
