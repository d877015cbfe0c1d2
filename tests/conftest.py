"""Shared fixtures: fixture images, users (alice, bob), and a real Celery worker process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, fixtures_dir, process_env


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
def celery_worker_process(transactional_db, settings):
    """A real ``celery worker`` process on the configured broker, sharing the test database.

    Tests using it see committed data only (transactional_db), exactly like production.
    """
    env = process_env(settings.MEDIA_ROOT, PYTHONUNBUFFERED="1")
    log_path = Path(settings.MEDIA_ROOT).parent / "worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "enhancer_site", "worker", "--pool=solo",
         "-Q", "enhance,faces", "--purge", "--without-gossip", "--without-mingle",
         "--loglevel=INFO", "-n", f"test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while "ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the Celery worker did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    log.close()
