"""The front page for visitors, and every page in English, Russian and Simplified Chinese."""

from __future__ import annotations

import ast
import gettext
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse

from tests.uploads.factories import make_job

pytestmark = pytest.mark.django_db


def test_a_visitor_gets_the_landing_page_with_examples_the_engine_made(client):
    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("signup") in html and reverse("login") in html
    examples = json.loads(open(finders.find("img/examples/examples.json")).read())
    assert {item["operation"] for item in examples} >= {"dehaze", "contrast", "upscale", "restore"}
    for item in examples:
        for side in ("before", "after"):
            name = f"img/examples/{item['operation']}-{side}.jpg"
            assert finders.find(name), name
            assert f"/static/{name}" in html


def test_a_logged_in_person_goes_straight_to_the_upload_page(alice_client):
    response = alice_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("uploads:new")


@pytest.mark.parametrize(
    ("accept", "expected", "lang"),
    [("ru-RU,ru;q=0.9,en;q=0.5", "Сделайте фотографии чище", "ru"),
     ("zh-CN,zh;q=0.9", "让您的照片更清晰", "zh-hans"),
     ("de-DE,en;q=0.5", "Make your photos clearer", "en")],
)
def test_the_language_comes_from_accept_language(client, accept, expected, lang):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    assert expected in html
    assert f'<html lang="{lang}">' in html


def test_the_switcher_overrides_the_browser(client):
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/accounts/login/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "登录" in html
    assert "Войти" not in html


PAGES = ["uploads:new", "history:list", "face_registry:spaces", "api:developer"]


@pytest.mark.parametrize("language", ["ru", "zh-hans"])
def test_every_signed_in_page_is_translated(alice_client, alice, language):
    """No English words from our own templates left on the main pages (brand names aside)."""
    job = make_job(alice, "contrast")
    english = ["Enhance photos", "History", "Log out", "Your jobs", "What should happen", "Face spaces",
               "API clients", "Delete selected", "Download original", "Run again", "Status:"]
    alice_client.post(reverse("set_language"), {"language": language})
    pages = [reverse(name) for name in PAGES] + [reverse("history:detail", args=[job.uuid])]
    for url in pages:
        response = alice_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert f'<html lang="{language}">' in html
        for word in english:
            assert word not in html, (url, word)


def _po_entries(path: Path) -> dict[str, str]:
    """msgid → msgstr of a .po file (singular entries; enough to compare with its .mo). An entry
    with a context is keyed as the .mo keys it: context, EOT, msgid."""
    entries, field, values = {}, None, {}
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith(("msgctxt ", "msgid ", "msgstr ", "msgid_plural ", "msgstr[")):
            field, _, rest = line.partition(" ")
            values[field] = ast.literal_eval(rest)
        elif line.startswith('"') and field:
            values[field] += ast.literal_eval(line)
        elif not line.strip():
            if values.get("msgid") and "msgid_plural" not in values:
                key = values["msgid"]
                if "msgctxt" in values:
                    key = f"{values['msgctxt']}\x04{key}"
                entries[key] = values.get("msgstr", "")
            field, values = None, {}
    return entries


@pytest.mark.parametrize("code", ["ru", "zh_Hans"])
def test_the_compiled_catalogue_matches_its_source(code):
    """A fresh clone has no GNU gettext, so the .mo files are committed: they must say what the
    .po files say (run ``make messages`` after editing a .po)."""
    folder = settings.LOCALE_PATHS[0] / code / "LC_MESSAGES"
    with (folder / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    entries = _po_entries(folder / "django.po")
    assert len(entries) > 200
    for msgid, msgstr in entries.items():
        assert msgstr, f"untranslated in {code}: {msgid!r}"
        assert compiled.gettext(msgid) == msgstr, msgid
