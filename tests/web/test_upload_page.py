"""The upload page: every operation explained, per-file refusals the page can show beside each
photo, and estimates for the photos chosen."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from apps.uploads.models import Job
from tests.helpers import image_bytes

pytestmark = pytest.mark.django_db


def photo(name: str, data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else image_bytes(120, 90), "image/png")


def test_each_operation_is_explained_with_its_outputs(alice_client):
    html = alice_client.get(reverse("uploads:new")).content.decode()
    assert "Clears haze, fog and smog" in html
    assert "Makes the photo 2 or 4 times larger" in html
    assert "Gives: upscaled." in html
    # Limits the page's script checks before sending, from the settings.
    settings_json = html.split('id="upload-settings" type="application/json">')[1].split("</script>")[0]
    limits = json.loads(settings_json)
    assert limits["maxPixels"] == 50_000_000 and limits["minSide"] == 48


def test_an_unavailable_operation_is_disabled_with_its_reason(alice_client):
    html = alice_client.get(reverse("uploads:new")).content.decode()
    colorize = html.split('id="op-colorize"')[1].split(">")[0]
    assert "disabled" in colorize
    assert "Colorize is not available on this server." in html
    assert "README" not in html and "install_model" not in html


def test_the_script_gets_each_refused_file_by_its_place_and_the_good_ones_go(alice_client):
    response = alice_client.post(
        reverse("uploads:new"),
        {"photos": [photo("good.png"), photo("notes.jpg", b"just text"), photo("tiny.png", image_bytes(20, 20))],
         "operation": "contrast"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    payload = response.json()
    assert payload["files"] == {
        "1": "The file is not an image we can read.",
        "2": "The image is 20x20; each side must be at least 48 px.",
    }
    assert payload["summary"] == "1 photo was sent. 2 were left out: each is marked with its reason."
    assert payload["jobs"] == [str(Job.objects.get(input_name="good.png").uuid)]


def test_refusals_come_in_the_visitors_language(alice_client):
    response = alice_client.post(
        reverse("uploads:new"),
        {"photos": [photo("notes.jpg", b"just text")], "operation": "contrast"},
        HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert response.json()["files"] == {"0": "Этот файл не является изображением, которое мы можем прочитать."}


def test_the_script_is_told_where_to_go_after_a_good_upload(alice_client, django_capture_on_commit_callbacks):
    response = alice_client.post(
        reverse("uploads:new"),
        {"photos": [photo("a.png"), photo("b.png")], "operation": "contrast"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    assert response.json()["redirect"] == reverse("history:list")
    assert sorted(job.input_name for job in Job.objects.all()) == ["a.png", "b.png"]


def test_without_the_script_the_form_still_works(alice_client):
    response = alice_client.post(reverse("uploads:new"), {"photos": [photo("a.png")], "operation": "contrast"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("history:detail", args=[job.uuid])


def test_estimates_follow_the_photos_and_the_options(alice_client):
    url = reverse("uploads:estimate")
    small = alice_client.get(url, {"sizes": "640x480"}).json()["operations"]
    large = alice_client.get(url, {"sizes": "640x480,4000x3000"}).json()["operations"]
    assert set(small) >= {"contrast", "dehaze", "upscale", "restore"}
    assert "colorize" not in small  # unavailable here: no estimate offered
    for name in ("contrast", "dehaze", "upscale"):
        assert large[name]["seconds"] > small[name]["seconds"] > 0
        assert small[name]["text"]
    x2 = alice_client.get(url, {"sizes": "640x480", "factor": "2", "kind": "art"}).json()["operations"]
    assert x2["upscale"]["seconds"] != small["upscale"]["seconds"]
    assert alice_client.get(url, {"sizes": "640x480"}, HTTP_ACCEPT_LANGUAGE="zh-CN").json()[
        "operations"]["upscale"]["text"].startswith("约")


def test_estimates_need_a_login(client):
    response = client.get(reverse("uploads:estimate"), {"sizes": "640x480"})
    assert response.status_code == 302


def test_the_reason_an_operation_is_unavailable_is_translated(alice_client):
    html = alice_client.get(reverse("uploads:new"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "«Раскрашивание» на этом сервере недоступно." in html
    assert "Раскрашивание" in html and "Colorize" not in html


def test_estimate_refuses_sizes_no_photo_can_have_with_400(alice_client):
    url = reverse("uploads:estimate")
    for sizes in ("9" * 400 + "x9", "640x" + "9" * 400, "0x480", "640x-1", "abc", "640x480,x"):
        response = alice_client.get(url, {"sizes": sizes})
        assert response.status_code == 400, sizes
        assert "sizes must be" in response.json()["error"]


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sizes=st.one_of(
        st.text(max_size=60),
        st.lists(st.tuples(st.integers(-10, 10**450), st.integers(-10, 10**450)), max_size=4).map(
            lambda pairs: ",".join(f"{w}x{h}" for w, h in pairs)
        ),
    ),
    factor=st.one_of(st.none(), st.text(max_size=20), st.integers(-10**20, 10**400).map(str)),
    kind=st.one_of(st.none(), st.text(max_size=10)),
)
def test_estimate_answers_any_query_without_a_server_error(alice_client, sizes, factor, kind):
    query = {"sizes": sizes, **({"factor": factor} if factor else {}), **({"kind": kind} if kind else {})}
    response = alice_client.get(reverse("uploads:estimate"), query)
    assert response.status_code in (200, 400)
    assert response["Content-Type"] == "application/json"


def test_the_declared_parameters_are_offered_in_the_visitors_language(alice_client):
    html = alice_client.get(reverse("uploads:new"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    upscale = html.split('<fieldset class="params" data-for="upscale">')[1].split("</fieldset>")[0]
    for text in ("Параметры: Увеличение", "Во сколько раз увеличить", "Рисунок / графика", "Быстрое"):
        assert text in upscale
    assert '<option value="4" selected>×4</option>' in upscale
