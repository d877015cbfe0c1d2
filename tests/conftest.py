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


QUEUES = "light,heavy"


@pytest.fixture
def start_celery_worker(transactional_db, settings):
    """Start real ``celery worker`` processes on the configured broker, sharing the test database:
    ``start_celery_worker("heavy")`` for one per queue (as ``make run`` and compose run them),
    ``start_celery_worker()`` for one on every queue. All are stopped at the end of the test.

    Tests using it see committed data only (transactional_db), exactly like production.
    """
    started: list[tuple[subprocess.Popen, object]] = []

    def start(queues: str = QUEUES, **env_extra: str) -> subprocess.Popen:
        env = process_env(settings.MEDIA_ROOT, PYTHONUNBUFFERED="1", **env_extra)
        name = queues.replace(",", "-")
        log_path = Path(settings.MEDIA_ROOT).parent / f"worker-{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = log_path.open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "enhancer_site", "worker", "--pool=solo",
             "-Q", queues, "--purge", "--without-gossip", "--without-mingle",
             "--loglevel=INFO", "-n", f"test-{os.getpid()}-{name}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        started.append((process, log))
        deadline = time.monotonic() + 60
        while "ready." not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the Celery worker did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        return process

    yield start
    for process, log in started:
        stop_process_group(process)
        log.close()


def stop_process_group(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM (a warm shutdown finishes the task at hand), SIGKILL after ``grace`` seconds."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


@pytest.fixture
def celery_worker_process(start_celery_worker):
    """One real ``celery worker`` process listening on every queue."""
    return start_celery_worker()
