"""The operation vocabulary (DESIGN.md) and the registry every caller goes through."""

from __future__ import annotations

from collections.abc import Callable

from . import colorize, contrast, dehaze, improve, restore, upscale
from .errors import EnhancerError, gettext_noop
from .operation import (
    NAMES,
    REGISTRY,
    Operation,
    Result,
    always_available,
    get,
    no_params,
    register,
)
from .picture import Picture
from .progress import Progress

# Callers reach the vocabulary through this module; these names are its public face.
__all__ = [
    "NAMES",
    "REGISTRY",
    "Operation",
    "Result",
    "always_available",
    "availability",
    "get",
    "no_params",
    "register",
    "run",
]


def _single(kind: str, fn: Callable[[Picture, Progress], Picture]):
    def run(picture: Picture, _params: dict, progress: Progress) -> Result:
        return Result({kind: fn(picture, progress)})

    return run


register(
    Operation(
        "contrast", "Contrast", _single("contrasted", contrast.enhance), outputs=("contrasted",)
    )
)
register(Operation("dehaze", "Dehaze", _single("dehazed", dehaze.dehaze), outputs=("dehazed",)))
register(
    Operation(
        "upscale",
        "Upscale",
        upscale.run,
        clean_params=upscale.clean_params,
        unavailable_reason=upscale.unavailable_reason,
        outputs=("resolved",),
    )
)
register(Operation("restore", "Restore", restore.run, outputs=("improved",)))
register(
    Operation(
        "colorize",
        "Colorize",
        colorize.run,
        unavailable_reason=colorize.unavailable_reason,
        outputs=("colored",),
    )
)
register(
    Operation(
        "improve",
        "Improve",
        improve.run,
        unavailable_reason=improve.unavailable_reason,
        outputs=("improved", "colorized_improved", "colored"),
    )
)
if tuple(REGISTRY) != NAMES:  # settings and pages read NAMES; the registry must match it
    raise RuntimeError(f"registered {tuple(REGISTRY)}, but operation.NAMES is {NAMES}")


def availability() -> dict[str, str | None]:
    """Operation name → None if it can run here, else the reason it cannot."""
    return {name: op.unavailable_reason() for name, op in REGISTRY.items()}


def run(name: str, picture: Picture, params: dict, progress: Progress) -> Result:
    """Perform ``name`` on ``picture``. ``params`` must be cleaned already (the operation's
    ``clean_params``: the service does it at submission, the command line before it calls)."""
    operation = get(name)
    reason = operation.unavailable_reason()
    if reason:
        raise EnhancerError(
            EnhancerError.UNAVAILABLE, gettext_noop("%(operation)s unavailable: %(reason)s"),
            {"operation": name, "reason": reason},
        )
    result = operation.run(picture, params, progress)
    progress(1.0)
    return result

