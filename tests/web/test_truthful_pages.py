"""Pages tell the truth (issue 23): readable, translated technical details and hints; operators'
words for staff only; Russian plurals and Chinese list punctuation; the site's own 404 and 500
pages; Django's debug pages only when asked for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views.defaults import server_error

from apps.face_registry.views import EMOTIONS, _attributes
from apps.imaging.faces import EMOTION_LABELS
from apps.uploads.models import Job
from tests.uploads.factories import make_job

ROOT = Path(__file__).resolve().parents[2]
RESTORED_INFO = {
    "assessment": {
        "noise_sigma": 0.872, "blockiness": 1.0144, "sharpness": 29093.6, "scratch_share": 0.00524,
        "colour_cast": 6.764, "tonal_range": 0.996, "problems": [], "needs_repair": False,
        "gentle": True, "steps": ["gentle_network"],
    }
}


def finished(job: Job, **fields) -> Job:
    fields = {"status": Job.Status.SUCCEEDED, "progress": 100, "provider": "local", **fields}
    Job.objects.filter(pk=job.pk).update(**fields)
    job.refresh_from_db()
    return job


@pytest.mark.django_db
def test_technical_details_are_sentences_in_the_visitors_language(alice_client, alice):
    job = finished(make_job(alice, "restore"), info=RESTORED_INFO)
    page = alice_client.get(reverse("history:detail", args=[job.uuid])).content.decode()
    assert "{&#x27;" not in page and "noise_sigma" not in page  # no raw dict
    assert "nothing above the repair thresholds" in page
    assert "a gentle clean-up by a neural network, at half strength" in page
    assert "Little needed repair: a gentle correction." in page
    page = alice_client.get(
        reverse("history:detail", args=[job.uuid]), HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    assert "мягкая очистка нейросетью, вполсилы" in page and "Измерено" in page
    page = alice_client.get(
        reverse("history:detail", args=[job.uuid]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "几乎无需修复：已做轻度校正。" in page  # Chinese punctuation, not ": ... ."


@pytest.mark.django_db
def test_who_did_the_job_is_for_staff_only(client, alice):
    job = finished(make_job(alice, "contrast"))
    client.force_login(alice)
    assert "Done by" not in client.get(reverse("history:detail", args=[job.uuid])).content.decode()
    alice.is_staff = True
    alice.save()
    assert "Done by" in client.get(reverse("history:detail", args=[job.uuid])).content.decode()


@pytest.mark.django_db
def test_the_history_says_when_nothing_was_produced_or_little_was_needed(alice_client, alice):
    gentle = finished(make_job(alice, "restore", name="a.png"), info=RESTORED_INFO)
    finished(gentle, info=RESTORED_INFO)
    gentle.outputs.create(kind="improved", file="x.png", format="PNG", width=1, height=1, bytes=1)
    finished(make_job(alice, "restore", name="b.png"), info={})
    page = alice_client.get(reverse("history:list")).content.decode()
    assert page.count('data-role="hint"') == 2
    assert "little needed repair: a gentle correction" in page
    assert "nothing was produced" in page


@pytest.mark.django_db
def test_the_status_filter_is_capitalised_like_its_first_choice(alice_client):
    page = alice_client.get(reverse("history:list")).content.decode()
    assert '<option value="succeeded">Done</option>' in page
    assert '<option value="queued">Queued</option>' in page


@pytest.mark.parametrize(("age", "text"), [(71, "71 год"), (72, "72 года"), (75, "75 лет"), (11, "11 лет")])
def test_ages_take_russian_plural_forms(age, text):
    face = SimpleNamespace(sex=None, age=age, emotion=None)  # what _attributes reads
    with translation.override("ru"):
        assert _attributes(face) == text


@pytest.mark.parametrize(("language", "text"), [("en", "female · happy"), ("ru", "женщина · радость"), ("zh-hans", "女 · 高兴")])
def test_emotions_are_named_in_the_visitors_language(language, text):
    face = SimpleNamespace(sex="female", age=None, emotion="happy")
    with translation.override(language):
        assert _attributes(face) == text


@pytest.mark.parametrize("emotion", EMOTION_LABELS)
def test_every_emotion_the_model_gives_has_a_visitors_word(emotion):
    assert emotion in EMOTIONS


@pytest.mark.django_db
def test_chinese_lists_take_chinese_punctuation(alice_client):
    page = alice_client.get(reverse("uploads:new"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "输出：" in page and "、" in page and ", " not in page.split('id="op-improve-about"')[1][:300]


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "title"), [("en", "Page not found"), ("ru", "Страница не найдена")])
def test_a_missing_page_is_the_sites_own_in_the_visitors_language(client, language, title):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    page = response.content.decode()
    assert f"<h1>{title}</h1>" in page and 'class="brand"' in page


@pytest.mark.parametrize(("language", "title"), [("en", "Something went wrong"), ("ru", "Что-то пошло не так")])
def test_a_server_error_is_the_sites_own_in_the_visitors_language(language, title):
    with translation.override(language):
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert f"<h1>{title}</h1>" in page and f'lang="{language}"' in page


def _settings_in_a_fresh_process(tmp_path, **env) -> str:
    environment = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "ENHANCER_")) and key != "DATABASE_URL"
    }
    environment.update(ENHANCER_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="enhancer_site.settings", **env)
    code = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.ALLOWED_HOSTS, getattr(s, 'SECURE_SSL_REDIRECT', False), "
        "s.STORAGES['staticfiles']['BACKEND'].rsplit('.', 1)[1], len(s.SECRET_KEY))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    return (result.stdout + result.stderr).strip()


def test_debug_pages_only_when_asked_and_a_local_run_still_works(tmp_path):
    local = _settings_in_a_fresh_process(tmp_path)
    assert local == "False ['127.0.0.1', 'localhost', '[::1]'] False StaticFilesStorage 67"
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert _settings_in_a_fresh_process(tmp_path) == local  # the same key next time
    assert _settings_in_a_fresh_process(tmp_path, DJANGO_DEBUG="true").startswith("True ")
    production = _settings_in_a_fresh_process(tmp_path, DJANGO_DEBUG="false")
    assert "DJANGO_SECRET_KEY" in production  # refuses to start without its secret


@pytest.mark.parametrize(("arguments", "debug"), [([], False), (["DEBUG=1"], True)])
def test_make_run_asks_for_debug_pages_only_with_debug_1(arguments, debug):
    plan = subprocess.run(
        ["make", "-n", "run", *arguments], cwd=ROOT, capture_output=True, text=True, timeout=60
    ).stdout
    (start,) = [line for line in plan.splitlines() if "scripts/run.sh" in line]
    assert ("DJANGO_DEBUG=true" in start) is debug
