"""Face enrolment by drag-and-drop and recognition with boxes; Russian and Chinese pages; a
phone-sized screen; axe-core on each."""

from __future__ import annotations

import pytest

from .conftest import axe_problems, drop_files, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-passphrase-42"


@pytest.mark.slow
def test_enrol_by_dropping_a_photo_then_recognize_with_boxes(
    page, live_server, django_user_model, fixture_path, shoot
):
    django_user_model.objects.create_user("erin", password=PASSWORD)
    log_in(page, live_server.url, "erin", PASSWORD)
    page.goto(live_server.url + "/faces/")
    page.fill("#id_name", "Family")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/faces/spaces/**")
    space_url = page.url

    page.fill("#enroll-form #id_name", "Barack")
    drop_files(page, "#enroll-form [data-role=dropzone]", [fixture_path("faces/obama.jpg")])
    assert page.locator("#enroll-form [data-role=dropped] li").inner_text() == "obama.jpg"
    assert axe_problems(page) == []
    page.click("#enroll-form button[type=submit]")
    page.wait_for_url("**/faces/persons/**")
    assert "1 face added to Barack." in page.inner_text(".messages")

    page.goto(space_url + "recognize/")
    drop_files(page, "#recognize-form [data-role=dropzone]", [fixture_path("faces/two_people.jpg")])
    page.click("#recognize-form button[type=submit]")
    page.wait_for_selector("#recognized svg g.face-box")
    boxes = page.locator("#recognized svg g.face-box")
    assert boxes.count() == 2
    labels = page.locator("#recognized .face-label .face-name").all_text_contents()
    assert "Barack" in labels
    known = boxes.nth(labels.index("Barack"))
    drawn = known.locator("rect").bounding_box()
    assert drawn["width"] > 20 and drawn["height"] > 20  # drawn over the photo, at its scale
    label = page.locator("#recognized .face-label").nth(labels.index("Barack"))
    assert "years" in label.locator(".face-attributes").text_content()
    assert axe_problems(page) == []
    shoot(page, "recognize", full_page=True)


def test_russian_from_the_browser_chinese_from_the_switcher(browser, live_server, shoot):
    context = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(live_server.url + "/")
    assert page.get_attribute("html", "lang") == "ru"
    assert "Сделайте фотографии чище" in page.inner_text("h1")
    assert "Удаление дымки" in page.inner_text(".examples")
    assert axe_problems(page) == []
    shoot(page, "landing-ru")

    page.select_option("#language-select", "zh-hans")
    page.click("[data-role=language-submit]")  # chosen without a pointer: confirmed by the button
    page.wait_for_function("document.documentElement.lang === 'zh-hans'")
    assert "让您的照片更清晰" in page.inner_text("h1")
    page.click("text=登录")
    page.wait_for_url("**/accounts/login/")
    assert page.inner_text("h1") == "登录"
    assert axe_problems(page) == []
    context.close()


def test_a_phone_gets_a_compact_menu_and_no_sideways_scrolling(browser, live_server, django_user_model, shoot):
    django_user_model.objects.create_user("finn", password=PASSWORD)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    log_in(page, live_server.url, "finn", PASSWORD)
    for path in ("/upload/", "/history/", "/faces/"):
        page.goto(live_server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        assert page.is_hidden("#site-nav a[href='/history/']"), path
        assert axe_problems(page) == [], path
    page.goto(live_server.url + "/upload/")
    header = page.locator(".topbar").bounding_box()
    assert header["height"] < 70  # one line, not three
    shoot(page, "phone")
    page.click("[data-role=nav-toggle]")
    assert page.get_attribute("[data-role=nav-toggle]", "aria-expanded") == "true"
    page.click("#site-nav >> text=History")
    page.wait_for_url("**/history/")
    context.close()
