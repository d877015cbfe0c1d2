"""Progress reporting: operations call ``progress(fraction)`` with 0.0 … 1.0."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float], None]


def ignore(_fraction: float) -> None:
    pass


def scaled(progress: Progress, start: float, end: float) -> Progress:
    """A callback for one stage of a longer operation, mapped onto [start, end]."""

    def report(fraction: float) -> None:
        progress(start + (end - start) * min(max(fraction, 0.0), 1.0))

    return report
