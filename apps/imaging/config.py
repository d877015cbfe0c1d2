"""The engine's settings, read from the environment once per process.

Every setting the engine takes from the environment is here, so that one place says what they
are and nothing reads ``os.environ`` while a job runs. :func:`config` builds the object on first
use and keeps it; tests that change an ``ENHANCER_*`` variable call ``config.cache_clear()``.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

MODEL_DIR_ENV = "ENHANCER_MODEL_DIR"
CACHE_DIR_ENV = "ENHANCER_CACHE_DIR"
THREADS_ENV = "ENHANCER_THREADS"
RUNTIME_ENV = "ENHANCER_UPSCALE_RUNTIME"
PRECISION_ENV = "ENHANCER_UPSCALE_PRECISION"
MEMORY_BUDGET_ENV = "ENHANCER_MEMORY_BUDGET"
TILE_ENV = "ENHANCER_TILE"
TILE_PAD_ENV = "ENHANCER_TILE_PAD"
RESTORE_NET_MAX_PIXELS_ENV = "ENHANCER_RESTORE_NET_MAX_PIXELS"
# oneDNN's own cap on the instructions its kernels use (OpenVINO's and PyTorch's alike):
# read so that a capped machine is measured and chosen for as the CPU it then behaves as.
MAX_ISA_ENV = "ONEDNN_MAX_CPU_ISA"

RUNTIMES = ("openvino", "onnxruntime", "ncnn")
PRECISIONS = ("int8", "bf16", "f32")


@dataclass(frozen=True)
class EngineConfig:
    model_dir: Path | None  # extra place for weights; None: only the packages' own
    cache_dir: Path  # converted graphs, compiled blobs, the precision probe
    threads: int  # per inference
    runtime: str  # "auto" or one of RUNTIMES
    precision: str  # "auto" or one of PRECISIONS
    memory_budget: str  # as written ("3GiB"); upscale.memory_budget parses it
    tile: int | None  # forced largest window side
    tile_pad: int | None  # forced context per side
    restore_net_max_pixels: int | None  # None: restore.NETWORK_MAX_PIXELS
    max_isa: str  # ONEDNN_MAX_CPU_ISA as written, upper case; "" where unset

    @classmethod
    def from_environ(cls, environ=None) -> EngineConfig:
        env = os.environ if environ is None else environ

        def text(name: str) -> str:
            return env.get(name, "").strip()

        model_dir = text(MODEL_DIR_ENV)
        return cls(
            model_dir=Path(model_dir).expanduser() if model_dir else None,
            cache_dir=Path(text(CACHE_DIR_ENV) or "var/cache").expanduser(),
            threads=_threads(text(THREADS_ENV)),
            runtime=_choice(RUNTIME_ENV, text(RUNTIME_ENV), RUNTIMES),
            precision=_choice(PRECISION_ENV, text(PRECISION_ENV), PRECISIONS),
            memory_budget=text(MEMORY_BUDGET_ENV),
            tile=_number(TILE_ENV, text(TILE_ENV)),
            tile_pad=_number(TILE_PAD_ENV, text(TILE_PAD_ENV)),
            restore_net_max_pixels=_number(
                RESTORE_NET_MAX_PIXELS_ENV, text(RESTORE_NET_MAX_PIXELS_ENV)
            ),
            max_isa=text(MAX_ISA_ENV).upper(),
        )


def _threads(value: str) -> int:
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            log.warning("%s=%r is not a number; using all cores", THREADS_ENV, value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    value = value.lower() or "auto"
    if value not in ("auto", *allowed):
        log.warning("%s=%r unknown; choosing automatically", name, value)
        return "auto"
    return value


def _number(name: str, value: str) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        log.warning("%s=%r is not a whole number; ignored", name, value)
        return None


@functools.cache
def config() -> EngineConfig:
    """The engine's settings, read from the environment on first use."""
    return EngineConfig.from_environ()
