"""What an operation is, and the registry that holds them: the leaf every operation module uses.

The operation modules (``colorize``, ``restore``, ``upscale``, …) import their ``Result`` from
here and never import ``operations``; ``operations`` imports them all and registers each one, in
one place. ``improve`` composes other operations by looking them up in :data:`REGISTRY`, so
whatever is registered as ``restore`` is what it runs.

This module imports nothing heavy (no numpy), so settings can read :data:`NAMES` cheaply.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


def always_available() -> str | None:
    return None


@dataclass(frozen=True)
class Choice:
    value: int | str
    # English, marked with gettext_noop where a page should translate it ("×2" needs nothing).
    label: str


@dataclass(frozen=True)
class Param:
    """One parameter of an operation, declared once: the engine cleans it (:meth:`clean`), the
    upload page offers it, the REST schema documents it and the cost model suggests its
    ``cheaper`` values when a job would take too long. Its type is its default's (int or str)."""

    name: str
    choices: tuple[Choice, ...]
    default: int | str
    label: str
    help_text: str = ""
    # Values that cost less than the others, worth suggesting to a job too slow for the limit.
    cheaper: tuple[int | str, ...] = ()

    def __post_init__(self) -> None:
        # A declaration mistake fails at import, not in a visitor's request.
        values = self.values
        if type(self.default) not in (int, str) or self.default not in values:
            raise ValueError(f"{self.name}: default {self.default!r} is not one of {values}")
        if any(type(value) is not type(self.default) for value in values):
            raise ValueError(f"{self.name}: every choice must be a {type(self.default).__name__}")
        if any(isinstance(value, str) and value != value.strip().lower() for value in values):
            raise ValueError(f"{self.name}: text choices are matched lower-cased and stripped")
        if not set(self.cheaper) <= set(values):
            raise ValueError(f"{self.name}: cheaper values must be choices")

    @property
    def type(self) -> type:
        return type(self.default)

    @property
    def values(self) -> tuple[int | str, ...]:
        return tuple(choice.value for choice in self.choices)

    def clean(self, value: object) -> int | str:
        """``value`` as the declared type, leniently: "4", 4.0 and " 4 " are 4, " Photo " is
        "photo"; a bool is no number."""
        if self.type is int:
            shown = value.strip() if isinstance(value, str) else value
            try:
                if isinstance(value, bool):
                    raise ValueError
                number = float(shown)  # type: ignore[arg-type]
                if number != int(number):
                    raise ValueError
            except (TypeError, ValueError, OverflowError):
                raise self._refusal(repr(shown)) from None
            if int(number) not in self.values:
                raise self._refusal(str(int(number)))
            return int(number)
        if isinstance(value, str) and value.strip().lower() in self.values:
            return value.strip().lower()
        raise self._refusal(repr(value))

    def _refusal(self, shown: str) -> EnhancerError:
        choices = [repr(value) if isinstance(value, str) else str(value) for value in self.values]
        return EnhancerError(
            EnhancerError.BAD_PARAMS,
            gettext_noop("%(name)s must be %(choices)s, got %(value)s."),
            {"name": self.name, "name_label": self.label,
             "choices": _alternatives(choices, "or"), "choices_or": choices,
             "value": shown},
        )


def _alternatives(items: list[str], word: str) -> str:
    """"a, b or c": the English lists of the API's messages (their wording is its contract)."""
    return f"{', '.join(items[:-1])} {word} {items[-1]}" if len(items) > 1 else "".join(items)


@dataclass(frozen=True)
class Work:
    """What a job will do here, as far as its cost goes: whether it needs a heavy worker, and
    cost key parameters besides the cleaned ones (the path it may take; the tier whose network
    it runs when two tiers run the same one)."""

    heavy: bool = False
    key: Mapping[str, str] = field(default_factory=dict)


def light_work(_params: dict, _pixels: int) -> Work:
    return Work()


def heavy_work(_params: dict, _pixels: int) -> Work:
    return Work(heavy=True)


@dataclass(frozen=True)
class Rate:
    """A cost key's starting point until it is calibrated or observed: ``overhead`` seconds plus
    ``per_megapixel`` seconds per megapixel. It serves the keys whose parameters include
    ``when``; the most specific match wins, ties go to the one declared first."""

    overhead: float
    per_megapixel: float
    when: Mapping[str, str] = field(default_factory=dict)
    # The network (networks.MODELS key) whose float32 rate this is: divided by how much faster
    # that network runs here. Empty for work without a super-resolution network.
    network: str = ""


@dataclass(frozen=True)
class Operation:
    """An operation declared once: what it runs, its parameters and what it costs. The engine
    cleans parameters from ``params``; pages, the REST schema and the cost model read the same
    declaration."""

    name: str
    label: str
    run: Callable[[Picture, dict, Progress], Result]
    params: tuple[Param, ...] = ()
    # What the declarations cannot say (a combination of values): takes the cleaned parameters,
    # raises EnhancerError(BAD_PARAMS).
    check: Callable[[dict], None] | None = None
    # None when the operation can run here, else why not ("no colorizer model installed").
    unavailable_reason: Callable[[], str | None] = always_available
    outputs: tuple[str, ...] = ()
    # Run here: the work a job of these cleaned parameters and this many pixels may do, decided
    # before the photo is looked at (a worker slot is reserved for what it *may* do).
    work: Callable[[dict, int], Work] = light_work
    # Run by a cloud provider: the job still holds a worker slot while the cloud works, for
    # these operations long enough to keep it off the light queue.
    heavy_in_cloud: bool = False
    rates: tuple[Rate, ...] = ()

    def clean_params(self, params: dict) -> dict:
        """Validated and normalised parameters, every declared one present (its default when not
        given); raises EnhancerError(BAD_PARAMS)."""
        declared = {param.name: param for param in self.params}
        unknown = sorted(str(name) for name in params if name not in declared)
        if unknown and not declared:
            raise EnhancerError(
                EnhancerError.BAD_PARAMS,
                gettext_noop("This operation takes no parameters: %(names)s."),
                {"names": str(unknown)},
            )
        if unknown:
            raise EnhancerError(
                EnhancerError.BAD_PARAMS,
                gettext_noop("Unknown %(operation)s parameters: %(names)s; use %(allowed)s."),
                {"operation": self.name, "names": ", ".join(unknown),
                 "allowed": _alternatives(list(declared), "and"), "allowed_and": list(declared)},
            )
        cleaned = {
            name: param.clean(params[name]) if name in params else param.default
            for name, param in declared.items()
        }
        if self.check:
            self.check(cleaned)
        return cleaned


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
