"""What an operation is, and the registry that holds them: the leaf every operation module uses.

The operation modules (``colorize``, ``restore``, ``upscale``, …) import their ``Result`` from
here and never import ``operations``; ``operations`` imports them all and registers each one, in
one place. ``improve`` composes other operations by looking them up in :data:`REGISTRY`, so
whatever is registered as ``restore`` is what it runs.

This module imports nothing heavy (no numpy), so settings can read :data:`NAMES` cheaply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .errors import EnhancerError, gettext_noop

if TYPE_CHECKING:
    from .picture import Picture
    from .progress import Progress

# Every operation of the vocabulary (DESIGN.md), in the order pages list them.
# ``operations`` registers exactly these and refuses to import if the two disagree.
NAMES: tuple[str, ...] = ("contrast", "dehaze", "upscale", "restore", "colorize", "improve")


@dataclass
class Result:
    """Named output pictures (``improved``, ``resolved``, …) plus JSON-safe facts about the run."""

    outputs: dict[str, Picture]
    info: dict = field(default_factory=dict)


def no_params(params: dict) -> dict:
    if params:
        raise EnhancerError(
            EnhancerError.BAD_PARAMS,
            gettext_noop("This operation takes no parameters: %(names)s."),
            {"names": str(sorted(params))},
        )
    return {}


def always_available() -> str | None:
    return None


@dataclass(frozen=True)
class Operation:
    name: str
    label: str
    run: Callable[[Picture, dict, Progress], Result]
    # Validates and normalises parameters; raises EnhancerError(BAD_PARAMS).
    clean_params: Callable[[dict], dict] = no_params
    # None when the operation can run here, else why not ("no colorizer model installed").
    unavailable_reason: Callable[[], str | None] = always_available
    outputs: tuple[str, ...] = ()


REGISTRY: dict[str, Operation] = {}


def register(operation: Operation) -> Operation:
    REGISTRY[operation.name] = operation
    return operation


def get(name: str) -> Operation:
    try:
        return REGISTRY[name]
    except KeyError:
        raise EnhancerError(
            EnhancerError.UNKNOWN_OPERATION,
            gettext_noop("Unknown operation %(name)s; choose one of %(names)s."),
            {"name": repr(name), "names": ", ".join(sorted(REGISTRY))},
        ) from None
