"""The operation vocabulary (DESIGN.md) and the registry every caller goes through.

Each operation module declares its own :class:`Operation` (``OPERATION``: what it runs, its
parameters, what it costs) next to its run function; this module only registers them.
"""

from __future__ import annotations

from . import colorize, contrast, dehaze, improve, restore, upscale
from .errors import EnhancerError, gettext_noop
from .operation import (
    NAMES,
    REGISTRY,
    Choice,
    Operation,
    Param,
    Rate,
    Result,
    Work,
    always_available,
    get,
    register,
)
from .picture import Picture
from .progress import Progress

# Callers reach the vocabulary through this module; these names are its public face.
__all__ = [
    "NAMES",
    "REGISTRY",
    "Choice",
    "Operation",
    "Param",
    "Rate",
    "Result",
    "Work",
    "always_available",
    "availability",
    "get",
    "register",
    "run",
]

for module in (contrast, dehaze, upscale, restore, colorize, improve):
    register(module.OPERATION)
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
