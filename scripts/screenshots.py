"""Refresh the README screenshots against a running site (``make run``) in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py http://127.0.0.1:8000 USER PASSWORD

It uploads fixture photos, enrolls and recognizes fixture faces, and writes docs/screenshots/.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures"
OUT = ROOT / "docs" / "screenshots"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main(base: str, username: str, password: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 860})
        page.set_default_timeout(120_000)
        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("main button[type=submit]")
        page.wait_for_url("**/history/")

        page.goto(f"{base}/upload/")
        page.set_input_files("input[type=file]", [str(FIXTURES / "photos/hazy_forest.jpg")])
        page.check("input[name=operation][value=dehaze]")
        page.screenshot(path=str(OUT / "upload.jpg"), quality=80)
        page.click("main button[type=submit]")
        page.wait_for_selector("[data-role=compare]")
        page.fill("[data-role=compare] .slider", "50")
        page.screenshot(path=str(OUT / "compare.jpg"), quality=80, full_page=True)

        page.goto(f"{base}/upload/")
        page.set_input_files(
            "input[type=file]",
            [str(FIXTURES / "photos/hazy_canon.bmp"), str(FIXTURES / "photos/gray_00017.png")],
        )
        page.check("input[name=operation][value=contrast]")
        page.click("main button[type=submit]")
        page.wait_for_url("**/history/")
        page.wait_for_function("document.querySelectorAll('li.job.queued, li.job.running').length === 0")
        page.screenshot(path=str(OUT / "history.jpg"), quality=80)

        page.goto(f"{base}/faces/")
        page.click("main button[type=submit]")  # create a space
        page.wait_for_url("**/faces/spaces/**")
        space_url = page.url
        page.fill("#id_name", "Obama")
        page.set_input_files("input[name=photos]", [str(FIXTURES / "faces/obama.jpg")])
        page.click("form[enctype] button[type=submit]")
        page.wait_for_load_state()
        page.goto(space_url + "recognize/")
        page.set_input_files("input[name=photo]", str(FIXTURES / "faces/two_people.jpg"))
        page.click("main form button[type=submit]")
        page.wait_for_selector("svg")
        page.screenshot(path=str(OUT / "recognize.jpg"), quality=80, full_page=True)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:4])
