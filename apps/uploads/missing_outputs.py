"""What a succeeded job could not make, and why.

``improve`` on a black-and-white photo succeeds without its colour outputs when no colorizer is
installed. Every surface must say so next to the result — the VK object, our API's job, the web
pages — or a client cannot tell "no colour needed" from "colour unavailable".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy

from apps import providers
from apps.imaging import colorize

from .models import Job

# What a visitor reads (the reason names model files and commands, for the operator).
NOT_COLORIZED = gettext_lazy(
    "Black-and-white photos are not colorized: colorize is not available on this server."
)


@dataclass(frozen=True)
class Missing:
    code: str
    outputs: tuple[str, ...]
    message: str  # English, with the operator's reason: the APIs answer it

    @property
    def text(self) -> str:
        return str(NOT_COLORIZED)

    def as_dict(self) -> dict:
        return {"code": self.code, "outputs": list(self.outputs), "message": self.message}


def missing_parts(job: Job) -> list[Missing]:
    """The outputs a succeeded job left out because a model is not installed here."""
    if job.status != Job.Status.SUCCEEDED:
        return []
    reason = (job.info or {}).get("colorize_unavailable")
    if not reason:
        return []
    return [
        Missing(
            "colorize_unavailable",
            ("colorized_improved", "colored"),
            f"black-and-white photo not colorized: colorize unavailable: {reason}",
        )
    ]


def operation_notes() -> dict[str, str]:
    """Operation → what it will leave out here, in the page's language, for the upload page
    (before anyone uploads)."""
    if colorize.unavailable_reason() and providers.for_operation("improve").name == "local":
        return {"improve": str(NOT_COLORIZED)}
    return {}
