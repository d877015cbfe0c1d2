"""What each operation and output is called and does, in the visitor's language.

The engine (``apps.imaging``) knows no Django and speaks English; every page that names an
operation or an output goes through here so that it is translated in one place.
"""

from __future__ import annotations

import re

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from apps.imaging import operations

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

STATUSES = {
    "queued": _("queued"),
    "running": _("running"),
    "succeeded": _("done"),
    "failed": _("failed"),
}

PARAMETER_VALUES = {
    ("kind", "photo"): _("photo"),
    ("kind", "art"): _("art / drawing"),
    ("quality", "fast"): _("fast"),
    ("quality", "best"): _("best"),
}

PARAMETER_NAMES = {"factor": _("factor"), "kind": _("kind"), "quality": _("quality")}


def operation_label(name: str) -> str:
    return str(LABELS.get(name, name))


def output_label(kind: str) -> str:
    return str(OUTPUTS.get(kind, kind))


def status_label(status: str) -> str:
    return str(STATUSES.get(status, status))


def describe_params(params: dict) -> str:
    """``{"factor": 4, "kind": "photo"}`` → "×4, photo" in the current language."""
    parts = []
    for key, value in (params or {}).items():
        if key == "factor":
            parts.append(f"×{value}")
        else:
            parts.append(str(PARAMETER_VALUES.get((key, value), f"{PARAMETER_NAMES.get(key, key)} {value}")))
    return ", ".join(parts)


def describe_operations() -> list[dict]:
    """Every registered operation, in the order people usually want them, with its texts."""
    order = [name for name in LABELS if name in operations.REGISTRY]
    order += [name for name in operations.REGISTRY if name not in LABELS]
    return [
        {
            "name": name,
            "label": operation_label(name),
            "sentence": str(SENTENCES.get(name, "")),
            "outputs": [output_label(kind) for kind in operations.REGISTRY[name].outputs],
        }
        for name in order
    ]


def duration_text(seconds: float) -> str:
    """"about 2 min" in the current language; rounded as a person would say it."""
    if seconds < 10:
        return str(_("a few seconds"))
    if seconds < 90:
        return str(_("about %(n)s s")) % {"n": round(seconds / 5) * 5}
    if seconds < 90 * 60:
        return str(_("about %(n)s min")) % {"n": round(seconds / 60)}
    return str(_("about %(n)s h")) % {"n": f"{seconds / 3600:.1f}"}


_DURATION = re.compile(r"a few seconds|about (?P<s>\d+) s|about (?P<min>\d+) min|about (?P<h>[\d.]+) h")
_WAIT = re.compile(r"(?P<time>.+?)(?: left| · next in line| · (?P<place>\d+)(?:st|nd|rd|th) in line)")


def _duration_from_english(text: str) -> str:
    match = _DURATION.fullmatch(text)
    if not match:
        return text
    if match["s"]:
        return str(_("about %(n)s s")) % {"n": match["s"]}
    if match["min"]:
        return str(_("about %(n)s min")) % {"n": match["min"]}
    if match["h"]:
        return str(_("about %(n)s h")) % {"n": match["h"]}
    return str(_("a few seconds"))


def translate_wait(text: str) -> str:
    """The queue's "about 2 min · 3rd in line" / "about 40 s left" in the page's language."""
    match = _WAIT.fullmatch(text or "")
    if not match or (get_language() or "en").startswith("en"):
        return text
    time = _duration_from_english(match["time"])
    if text.endswith(" left"):
        return str(_("%(time)s left")) % {"time": time}
    if match["place"]:
        return str(_("%(time)s · number %(place)s in line")) % {"time": time, "place": match["place"]}
    return str(_("%(time)s · next in line")) % {"time": time}
