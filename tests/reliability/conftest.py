"""Fixtures for fault tests: real worker processes on a chosen broker, the broker pointed at a
closed port, and a media folder the kernel refuses to write (even for root)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.helpers import ROOT, process_env


def filesystem_transport_options() -> dict:
    # The same folders settings.py derives for filesystem:// from ENHANCER_VAR_DIR, which the
    # worker process inherits.
    folder = Path(django_settings.BROKER_DIR)
    for name in ("out", "processed", "control"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return {
        "control_folder": str(folder / "control"),
        "data_folder_in": str(folder / "out"),
        "data_folder_out": str(folder / "out"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
    }


def use_broker(url: str, transport_options: dict) -> tuple:
    """Point this process's Celery app at ``url``; returns what to hand to :func:`restore`."""
    from enhancer_site.celery import app

    saved = (
        os.environ.get("CELERY_BROKER_URL"), app.conf.broker_url, app.conf.broker_transport_options
    )
    # Celery reads the CELERY_BROKER_URL environment variable before its own configuration.
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_url = url
    app.conf.broker_transport_options = transport_options
    _drop_pools(app)
    return saved


def restore(saved: tuple) -> None:
    from enhancer_site.celery import app

    environment, app.conf.broker_url, app.conf.broker_transport_options = saved
    if environment is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = environment
    _drop_pools(app)


def _drop_pools(app) -> None:
    # Pools are made per broker URL on first use; forget them (kombu keeps its own registry of
    # them, so closing one would break the next test that uses the same URL).
    app._pool = None
    app.amqp._producer_pool = None


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def broker_down():
    """The broker is unreachable: CELERY_BROKER_URL points at a port nobody listens on."""
    saved = use_broker(f"redis://127.0.0.1:{closed_port()}/0", {})
    yield
    restore(saved)


def redis_url() -> str | None:
    url = django_settings.CELERY_BROKER_URL
    return url if url.startswith("redis://") else None


@pytest.fixture(params=["filesystem", "redis"])
def transport(request) -> Iterator[str]:
    """Each fault test runs on the embedded filesystem broker and on Redis (when configured:
    CI sets CELERY_BROKER_URL to its Redis)."""
    if request.param == "filesystem":
        url, options = "filesystem://", filesystem_transport_options()
    else:
        url, options = redis_url() or "", {}
        if not url:
            pytest.skip("CELERY_BROKER_URL is not a Redis URL")
    saved = use_broker(url, options)
    yield url
    restore(saved)


@pytest.fixture
def start_worker(transactional_db, settings):
    """``start_worker(broker_url, pool="prefork", **env)`` → a real ``celery worker`` process
    sharing this test's database and media folder; stopped at the end of the test."""
    started: list[tuple[subprocess.Popen, object]] = []

    def start(broker_url: str, pool: str = "prefork", **env: str) -> subprocess.Popen:
        log_path = Path(settings.MEDIA_ROOT).parent / f"worker-{len(started)}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = log_path.open("w")
        extra = {"PYTHONUNBUFFERED": "1", "CELERY_BROKER_URL": broker_url, **env}
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "enhancer_site", "worker", f"--pool={pool}",
             "--concurrency=1", "-Q", "light,heavy", "--purge", "--without-gossip",
             "--without-mingle", "--loglevel=INFO", "-n", f"fault-{uuid.uuid4().hex[:8]}@%h"],
            cwd=ROOT, env=process_env(settings.MEDIA_ROOT, **extra), stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        started.append((process, log))
        deadline = time.monotonic() + 60
        while "ready." not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.2)
        process.log_path = log_path  # type: ignore[attr-defined]
        return process

    yield start
    for process, log in started:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@pytest.fixture
def read_only():
    """``read_only(folder)``: the kernel refuses writes under ``folder`` until the test ends.

    As root (CI) permissions do not stop writes, so the folder is bind-mounted read-only onto
    itself; as another user, its mode does it.
    """
    undo: list = []

    def make(folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            modes = [(path, path.stat().st_mode) for path in [folder, *folder.rglob("*")] if path.is_dir()]
            for path, _ in modes:
                path.chmod(0o500)
            undo.append(lambda: [path.chmod(mode) for path, mode in modes])
            return
        mount = shutil.which("mount")
        if mount is None:
            pytest.skip("no mount command to make a read-only folder as root")
        done = subprocess.run([mount, "--bind", str(folder), str(folder)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot bind-mount here: {done.stderr.decode().strip()}")
        undo.append(lambda: subprocess.run(["umount", str(folder)], check=True))
        subprocess.run([mount, "-o", "remount,ro,bind", str(folder)], check=True)

    yield make
    for step in reversed(undo):
        step()


def files_under(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in Path(folder).rglob("*") if path.is_file()}
