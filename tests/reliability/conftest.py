"""Fixtures for fault tests: real worker processes on a chosen broker, the broker pointed at a
closed port, and a media folder the kernel refuses to write (even for root)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.api.conftest import issued, secrets  # noqa: F401  (fixtures, found by pytest here)
from tests.helpers import free_port


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


@pytest.fixture
def broker_down():
    """The broker is unreachable: CELERY_BROKER_URL points at a port nobody listens on."""
    saved = use_broker(f"redis://127.0.0.1:{free_port()}/0", {})
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
def start_worker(start_celery_worker):
    """``start_worker(broker_url, pool="prefork", **env)`` → a real ``celery worker`` process on
    every queue, sharing this test's database and media folder; stopped at the end of the test."""

    def start(broker_url: str, pool: str = "prefork", **env: str) -> subprocess.Popen:
        return start_celery_worker(pool=pool, CELERY_BROKER_URL=broker_url, **env)

    return start


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

