"""Helpers importable by every test module: ``from tests.helpers import wait_for``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from apps.imaging.operation import Rate

ROOT = Path(__file__).resolve().parent.parent


def process_env(media_root, **extra: str) -> dict[str, str]:
    """Environment for another process (a worker, a second registry) that shares this test's
    database and media folder, as a second machine shares production's."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{settings['NAME']}"
    else:
        user = settings.get("USER") or ""
        password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
        host = settings.get("HOST") or "127.0.0.1"
        port = f":{settings['PORT']}" if settings.get("PORT") else ""
        url = f"postgres://{user}{password}@{host}{port}/{settings['NAME']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "enhancer_site.settings_test",
        "DATABASE_URL": url,
        "MEDIA_ROOT": str(media_root),
        **extra,
    }


def start_worker_process(log_path: Path, env: dict[str, str], name: str, pool: str = "solo",
                         queues: str | None = None, timeout: float = 60) -> subprocess.Popen:
    """A real ``celery worker`` process named ``name@host``, one task at a time, on ``queues``
    (every queue unless told), its output in ``log_path``; returned once it is ready. Stop it
    with :func:`stop_process_group`."""
    from apps.api.webhooks import QUEUE as WEBHOOKS
    from apps.uploads.costs import QUEUES

    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:  # the worker writes through its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "enhancer_site", "worker", f"--pool={pool}",
             "--concurrency=1", "-Q", queues or ",".join([*QUEUES, WEBHOOKS]), "--purge",
             "--without-gossip",
             "--without-mingle", "--loglevel=INFO", "-n", f"{name}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while "ready." not in log_path.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process_group(process)
            raise AssertionError(f"the Celery worker {name} did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.2)
    return process


def stop_process_group(process: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM (a warm shutdown finishes the task at hand), SIGKILL after ``grace`` seconds."""
    stop_process_groups([process], grace)


def stop_process_groups(processes: list[subprocess.Popen], grace: float = 20) -> None:
    """:func:`stop_process_group` for several at once: all are asked to stop together, so they
    shut down side by side within one ``grace``, and whatever is left then is killed."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=10)


def _signal_group(process: subprocess.Popen, number: signal.Signals) -> None:
    try:
        os.killpg(process.pid, number)
    except ProcessLookupError:
        pass  # it ended meanwhile


def free_port() -> int:
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def files_under(folder: Path) -> set[str]:
    """Every file under ``folder`` (none if it does not exist), by its path relative to it."""
    return {str(path.relative_to(folder)) for path in Path(folder).rglob("*") if path.is_file()}


class RegistryProcess:
    """Another process running the face-registry services with its own in-memory index
    (tests/face_registry/registry_process.py): one JSON command a line in, one answer out."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.face_registry.registry_process"],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert json.loads(self.process.stdout.readline()) == {"ready": True}

    def __call__(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        assert "error" not in answer, answer
        return answer

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def fixtures_dir() -> Path:
    """The shared public test images (``../shared/fixtures`` unless ENHANCER_FIXTURES says)."""
    return Path(os.environ.get("ENHANCER_FIXTURES", ROOT.parent / "shared" / "fixtures"))

def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def image_bytes(width: int = 96, height: int = 64, fmt: str = "PNG", mode: str = "RGB") -> bytes:
    """A small synthetic photo-like image (gradients + shapes) encoded in memory."""
    import io

    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([x / max(width - 1, 1), y / max(height - 1, 1), 0.5 + 0.4 * np.sin(x / 7)], axis=2)
    image = Image.fromarray((rgb * 255).astype(np.uint8), "RGB").convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


# Upscale rates of a slow CPU (Real-ESRGAN in onnxruntime fp32 on 2 AVX2 cores), put before
# the engine's own (ties go to the earlier rate), so tests of admission refuse the sizes they
# choose whatever the engine's declared rates become.
SLOW_CPU_COSTS = (
    Rate(3.0, 90.0, {"kind": "art", "factor": "2"}, network="art-x2"),
    Rate(3.0, 90.0, {"kind": "art", "factor": "4"}, network="art-x4"),
    Rate(5.0, 730.0, network="photo-x4"),
    Rate(5.0, 190.0, {"factor": "2"}, network="fast-x2"),
    Rate(3.0, 60.0, {"quality": "fast"}, network="fast-x4"),
    # Photo x2 runs SPAN x2 in both tiers: one key (upscale.work), one rate.
    Rate(5.0, 190.0, {"quality": "fast", "factor": "2"}, network="fast-x2"),
)


def use_slow_cpu_costs(monkeypatch) -> None:
    """The registered upscale with SLOW_CPU_COSTS first, and no speed-up from this CPU."""
    from apps.imaging import operations
    from apps.uploads import costs

    upscale = operations.get("upscale")
    monkeypatch.setitem(
        operations.REGISTRY, "upscale", replace(upscale, rates=SLOW_CPU_COSTS + upscale.rates)
    )
    monkeypatch.setattr(costs, "_speedup", lambda _network: 1.0)  # whatever this CPU's probe found
