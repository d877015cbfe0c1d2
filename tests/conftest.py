"""Shared fixtures: fixture images, users (alice, bob), and a real Celery worker process."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import fixtures_dir, process_env, start_worker_process, stop_process_group


@pytest.fixture
def fixture_path():
    """``fixture_path("photos/hazy_forest.jpg")`` → Path, or skip when the shared images are absent."""

    def find(relative: str) -> Path:
        path = fixtures_dir() / relative
        if not path.exists():
            pytest.skip(f"fixture image {path} is absent (set ENHANCER_FIXTURES to the shared fixtures)")
        return path

    return find


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Each test gets its own empty media folder, so leftover files are seen."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def empty_cache():
    """The cache holds sign-in failure counts and the health page's worker ping: one test's
    must not lock out or answer for the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", "alice-password-1")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", "bob-password-1")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def start_celery_worker(transactional_db, settings):
    """Start real ``celery worker`` processes on the configured broker, sharing the test database:
    ``start_celery_worker("heavy")`` for one per queue (as ``make run`` and compose run them),
    ``start_celery_worker()`` for one on every queue, ``pool=`` and environment variables as
    keywords. All are stopped at the end of the test.

    Tests using it see committed data only (transactional_db), exactly like production.
    """
    started: list[subprocess.Popen] = []

    def start(queues: str | None = None, pool: str = "solo", **env: str) -> subprocess.Popen:
        name = f"{len(started)}-" + (queues or "all").replace(",", "-")
        process = start_worker_process(
            Path(settings.MEDIA_ROOT).parent / f"worker-{name}.log",
            process_env(settings.MEDIA_ROOT, PYTHONUNBUFFERED="1", **env),
            f"test-{os.getpid()}-{name}", pool=pool, queues=queues,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        stop_process_group(process)


@pytest.fixture
def celery_worker_process(start_celery_worker):
    """One real ``celery worker`` process listening on every queue."""
    return start_celery_worker()


@pytest.fixture(autouse=True)
def _fresh_engine_config():
    """The engine reads its ``ENHANCER_*`` settings once per process (apps.imaging.config):
    each test starts from what its own environment says. A test that changes a variable after
    the engine has read them calls ``config.cache_clear()`` itself."""
    from apps.imaging.config import config

    config.cache_clear()
    yield
    config.cache_clear()
