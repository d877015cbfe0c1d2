"""What each operation and output is called and does, in the visitor's language.

The engine (``apps.imaging``) knows no Django and speaks English; every page that names an
operation or an output goes through here so that it is translated in one place.
"""

from __future__ import annotations

from django.utils.translation import get_language, gettext, pgettext
from django.utils.translation import gettext_lazy as _

from apps.imaging import operations

from . import queue
from .missing_outputs import operation_notes
from .models import Job

# In the order the pages list them: the most asked-for first.
LABELS = {
    "upscale": _("Upscale"),
    "restore": _("Restore"),
    "improve": _("Improve"),
    "dehaze": _("Dehaze"),
    "contrast": _("Contrast"),
    "colorize": _("Colorize"),
}

SENTENCES = {
    "restore": _(
        "Repairs old or damaged photos: removes noise, JPEG blocks and scratches, sharpens and "
        "fixes faded colours."
    ),
    "colorize": _("Turns a black-and-white photo into a colour one."),
    "improve": _(
        "Restores the photo and, when it is black-and-white, also gives a colorized version."
    ),
    # Said instead where no colorizer is installed: no promise of a colour version.
    "improve-no-colour": _(
        "Restores the photo: removes noise, JPEG blocks and scratches, sharpens and fixes faded "
        "colours."
    ),
    "upscale": _(
        "Makes the photo 2 or 4 times larger with a neural network that draws in the missing "
        "detail, for photos or for drawings."
    ),
    "dehaze": _("Clears haze, fog and smog so distant things show their colour and contrast."),
    "contrast": _("Brings out a flat or dull photo: evens the levels and lifts local contrast."),
}

OUTPUTS = {
    "improved": _("improved"),
    "colorized_improved": _("colorized and improved"),
    "colored": _("colorized"),
    "resolved": _("upscaled"),
    "dehazed": _("dehazed"),
    "contrasted": _("contrast enhanced"),
}

COLOUR_OUTPUTS = ("colored", "colorized_improved")

STATUSES = {
    "queued": _("queued"),
    "running": _("running"),
    "succeeded": _("done"),
    "failed": _("failed"),
}

def operation_label(name: str) -> str:
    if name in LABELS:
        return str(LABELS[name])
    # An operation without a page text of its own: its declared label, translated if it can be.
    operation = operations.REGISTRY.get(name)
    return gettext(operation.label) if operation else name


def output_label(kind: str) -> str:
    return str(OUTPUTS.get(kind, kind))


# A job an operator cancelled ends as failed with this code; its owner reads "cancelled".
CANCELLED = _("cancelled")


def status_label(status: str, error_code: str = "") -> str:
    if status == "failed" and error_code == "cancelled":
        return str(CANCELLED)
    return str(STATUSES.get(status, status))


def join_list(items) -> str:
    """"a, b, c" with the language's own separator (Chinese lists take "、", not ", ")."""
    return pgettext("list separator", ", ").join(str(item) for item in items)


def _choice(name: str, value):
    """The declared choice ``value`` of parameter ``name``, from any operation."""
    choices = (
        choice
        for operation in operations.REGISTRY.values()
        for param in operation.params
        if param.name == name
        for choice in param.choices
    )
    return next((choice for choice in choices if choice.value == value), None)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def describe_params(params: dict) -> str:
    """``{"factor": 4, "kind": "photo"}`` → "×4, photo" in the current language: each value by
    its declared label."""
    parts = []
    for name, value in (params or {}).items():
        choice = _choice(name, value)
        parts.append(_lower_first(gettext(choice.label)) if choice else f"{name} {value}")
    return join_list(parts)


def describe_operations() -> list[dict]:
    """Every registered operation, in the order people usually want them, with its texts: what
    it does and gives on this server (``improve`` promises colour only with a colorizer)."""
    order = [name for name in LABELS if name in operations.REGISTRY]
    order += [name for name in operations.REGISTRY if name not in LABELS]
    colourless = operation_notes()
    described = []
    for name in order:
        kinds = operations.REGISTRY[name].outputs
        sentence = SENTENCES.get(name, "")
        if name in colourless:
            kinds = [kind for kind in kinds if kind not in COLOUR_OUTPUTS]
            sentence = SENTENCES.get(f"{name}-no-colour", sentence)
        described.append(
            {
                "name": name,
                "label": operation_label(name),
                "sentence": str(sentence),
                "outputs": [output_label(kind) for kind in kinds],
            }
        )
    return described


def duration_text(seconds: float, about: bool = True) -> str:
    """"about 2 min" in the current language; rounded as a person would say it. Without
    ``about`` for a set duration (a time limit): "2 min"."""
    if seconds < 10:
        return str(_("a few seconds")) if about else str(_("%(n)s s")) % {"n": f"{seconds:.0f}"}
    if seconds < 90:
        return str(_("about %(n)s s") if about else _("%(n)s s")) % {"n": round(seconds / 5) * 5}
    if seconds < 90 * 60:
        return str(_("about %(n)s min") if about else _("%(n)s min")) % {"n": round(seconds / 60)}
    return str(_("about %(n)s h") if about else _("%(n)s h")) % {"n": f"{seconds / 3600:.1f}"}


def wait_text(job, backlog=None) -> str:
    """"about 2 min · 3rd in line" for a queued job, "about 40 s left" for a running one, in the
    current language; "" once the job is finished."""
    eta = queue.eta_seconds(job, backlog)
    if eta is None:
        return ""
    position = None if job.status == Job.Status.RUNNING else queue.queue_position(job) or 1
    return describe_wait(eta, position)


def describe_wait(seconds: float, position: int | None) -> str:
    """The wait beside a progress bar; ``position`` None for a job already running."""
    time = duration_text(seconds)
    if position is None:
        return str(_("%(time)s left")) % {"time": time}
    if position == 1:
        return str(_("%(time)s · next in line")) % {"time": time}
    if (get_language() or "en").startswith("en"):  # "3rd": an ordinal no catalogue entry can make
        return f"{time} · {_ordinal(position)} in line"
    return str(_("%(time)s · number %(place)s in line")) % {"time": time, "place": position}


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"
