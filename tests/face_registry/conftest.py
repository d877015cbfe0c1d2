"""Face-registry fixtures: photo bytes, and face analysis cached for the whole session.

Real analysis of a fixture photo takes 0.5–2 s on 2 cores; the same bytes always give the same
faces, so the first result is reused (the engine itself is tested in tests/imaging).
"""

from __future__ import annotations

import hashlib

import pytest

from apps.face_registry import index, services
from apps.imaging import faces

_real_analyze = services.analyze
_analyses: dict[str, services.Analysis] = {}

needs_face_models = pytest.mark.skipif(faces.available() is not None, reason=str(faces.available()))


def cached_analyze(data: bytes, max_faces: int | None = None) -> services.Analysis:
    key = hashlib.sha256(data).hexdigest()
    if key not in _analyses:
        _analyses[key] = _real_analyze(data)
    if max_faces is not None and len(_analyses[key].faces) > max_faces:
        return _real_analyze(data, max_faces)  # refused as the real analysis refuses it
    return _analyses[key]


@pytest.fixture(autouse=True)
def _cached_analysis(monkeypatch):
    monkeypatch.setattr(services, "analyze", cached_analyze)
    index.forget()
    yield
    index.forget()


@pytest.fixture
def face_photo(fixture_path):
    """``face_photo("obama.jpg")`` → the bytes of a shared face fixture."""

    def read(name: str) -> bytes:
        return fixture_path(f"faces/{name}").read_bytes()

    return read


@pytest.fixture
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": settings.MEDIA_ROOT},
        },
    }
    return settings.MEDIA_ROOT
