"""Runs operations on this machine with the engine in ``apps.imaging``."""

from __future__ import annotations

from apps.common.images import image_limits
from apps.imaging import codec, operations
from apps.imaging.progress import Progress, scaled

from .base import ProducedImage, ProviderResult


class LocalProvider:
    name = "local"

    def unavailable_reason(self, operation: str) -> str | None:
        return operations.get(operation).unavailable_reason()

    def check_params(self, operation: str, params: dict) -> None:
        pass  # the engine's own clean_params is the whole check here

    def run(self, operation: str, data: bytes, params: dict, progress: Progress) -> ProviderResult:
        """``params`` are the cleaned ones stored at submission; they are not checked again."""
        picture = codec.decode(data, image_limits())
        progress(0.02)
        result = operations.run(operation, picture, params, scaled(progress, 0.02, 0.95))
        produced = []
        for kind, output in result.outputs.items():
            fmt = codec.output_format(output)
            produced.append(
                ProducedImage(kind, codec.encode(output, fmt), fmt, output.width, output.height)
            )
        return ProviderResult(produced, result.info)
