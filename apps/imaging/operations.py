"""The operation vocabulary (DESIGN.md) and the registry every caller goes through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import contrast, dehaze, restore, upscale
from .errors import EnhancerError
from .picture import Picture
from .progress import Progress


@dataclass
class Result:
    """Named output pictures (``improved``, ``resolved``, …) plus JSON-safe facts about the run."""

    outputs: dict[str, Picture]
    info: dict = field(default_factory=dict)


def no_params(params: dict) -> dict:
    if params:
        raise EnhancerError(
            EnhancerError.BAD_PARAMS, f"This operation takes no parameters: {sorted(params)}."
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


def _single(kind: str, fn: Callable[[Picture, Progress], Picture]):
    def run(picture: Picture, _params: dict, progress: Progress) -> Result:
        return Result({kind: fn(picture, progress)})

    return run


REGISTRY: dict[str, Operation] = {}


def register(operation: Operation) -> Operation:
    REGISTRY[operation.name] = operation
    return operation


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


def get(name: str) -> Operation:
    try:
        return REGISTRY[name]
    except KeyError:
        raise EnhancerError(
            EnhancerError.UNKNOWN_OPERATION,
            f"Unknown operation {name!r}; choose one of {', '.join(sorted(REGISTRY))}.",
        ) from None


def availability() -> dict[str, str | None]:
    """Operation name → None if it can run here, else the reason it cannot."""
    return {name: op.unavailable_reason() for name, op in REGISTRY.items()}


def run(name: str, picture: Picture, params: dict, progress: Progress) -> Result:
    operation = get(name)
    cleaned = operation.clean_params(dict(params or {}))
    reason = operation.unavailable_reason()
    if reason:
        raise EnhancerError(EnhancerError.UNAVAILABLE, f"{name} unavailable: {reason}")
    result = operation.run(picture, cleaned, progress)
    progress(1.0)
    return result


# Operations that live in their own modules register themselves when imported; importing them
# here (last, once the registry exists) makes every caller of this module see them.
from . import colorize, improve  # noqa: E402, F401
