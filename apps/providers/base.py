"""The one small interface every provider implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from apps.imaging.progress import Progress


@dataclass(frozen=True)
class ProducedImage:
    kind: str  # "dehazed", "resolved", "improved", …
    data: bytes  # an encoded JPEG or PNG
    format: str  # "JPEG" or "PNG"
    width: int
    height: int


@dataclass
class ProviderResult:
    outputs: list[ProducedImage]
    info: dict = field(default_factory=dict)


class Provider(Protocol):
    name: str

    def unavailable_reason(self, operation: str) -> str | None:
        """None when ``operation`` can run, else a sentence saying why not."""

    def check_params(self, operation: str, params: dict) -> None:
        """Optional. Raise EnhancerError(BAD_PARAMS) for cleaned ``params`` this provider
        cannot honour.

        Called once, at submission (``uploads.services.validate_operation``), so a job the
        provider would refuse is never queued."""

    def run(self, operation: str, data: bytes, params: dict, progress: Progress) -> ProviderResult:
        """Perform ``operation`` on the encoded image ``data``; raise EnhancerError on failure."""
