"""A job's technical details (``Job.info``, the engine's English dict) as sentences a person reads,
in the page's language, and the one-line hint the history shows beside a finished job.

The APIs return ``info`` as it is; only the pages go through here.
"""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import operation_text

PROBLEMS = {
    "noise": gettext_lazy("noise"),
    "blocking": gettext_lazy("JPEG blocks"),
    "blur": gettext_lazy("softness"),
    "scratches": gettext_lazy("scratches and dust"),
    "colour_cast": gettext_lazy("a colour cast"),
    "low_contrast": gettext_lazy("faded tones"),
}

STEPS = {
    "inpaint": gettext_lazy("scratches and dust filled in"),
    "realesrgan": gettext_lazy("noise and compression cleaned by a neural network"),
    "denoise": gettext_lazy("noise reduced"),
    "sharpen": gettext_lazy("sharpened"),
    "white_balance": gettext_lazy("colour cast corrected"),
    "levels": gettext_lazy("tones stretched"),
    "gentle_network": gettext_lazy("a gentle clean-up by a neural network, at half strength"),
    "gentle_denoise": gettext_lazy("a gentle noise reduction"),
}

# (assessment key, label, how the number is shown)
MEASUREMENTS = [
    ("noise_sigma", gettext_lazy("noise level"), 1),
    ("blockiness", gettext_lazy("JPEG blocking"), 2),
    ("sharpness", gettext_lazy("sharpness"), 0),
    ("scratch_share", gettext_lazy("scratches and dust, share of the picture"), 4),
    ("colour_cast", gettext_lazy("colour cast"), 1),
    ("tonal_range", gettext_lazy("tonal range"), 2),
]


def _listed(names, labels) -> str:
    return operation_text.join_list(labels.get(name, name) for name in names)


def _assessment(info: dict) -> dict | None:
    found = info.get("assessment") or (info.get("restore") or {}).get("assessment")
    return found if isinstance(found, dict) else None


def describe_info(info: dict | None) -> list[tuple[str, str]]:
    """(label, value) rows for the "Technical details" of a job page."""
    info = info or {}
    rows: list[tuple[str, str]] = []
    assessment = _assessment(info)
    if assessment is not None:
        problems = assessment.get("problems") or []
        rows.append(
            (_("Found"), _listed(problems, PROBLEMS) if problems else _("nothing above the repair thresholds"))
        )
        if assessment.get("steps"):
            rows.append((_("Done"), _listed(assessment["steps"], STEPS)))
        measured = [
            f"{label} {number_format(assessment[key], digits)}"
            for key, label, digits in MEASUREMENTS
            if isinstance(assessment.get(key), int | float)
        ]
        if measured:
            rows.append((_("Measured"), operation_text.join_list(measured)))
    if "bw" in info:
        rows.append((_("Black-and-white photo"), _("yes") if info["bw"] else _("no")))
    if "model" in info:
        rows.append((_("Neural network"), str(info["model"])))
    if "runtime" in info:
        rows.append((_("Runtime"), operation_text.join_list(
            str(info[key]) for key in ("runtime", "precision") if info.get(key)
        )))
    if "factor" in info:
        rows.append((_("Options"), operation_text.describe_params(
            {key: info[key] for key in ("factor", "kind", "quality") if key in info}
        )))
    return rows


def result_hint(job) -> str:
    """What a finished job's result is, when "done" alone would mislead."""
    if job.status != "succeeded":
        return ""
    if getattr(job, "has_outputs", True) is False:
        return _("nothing was produced")
    assessment = _assessment(job.info or {})
    if assessment and assessment.get("gentle"):
        return _("little needed repair: a gentle correction")
    return ""
