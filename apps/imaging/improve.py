"""Improve (VK Cloud Vision ``improve`` semantics): restore, and colorize when the photo is B/W.

Outputs:

* ``improved`` — the restored photo (a gentle correction when little was wrong; VK allows it
  absent, but whoever asks for a restored photo gets one);
* ``colored`` — the photo (as sent) colorized; only for B/W photos with a colorizer installed;
* ``colorized_improved`` — the restored photo colorized (the original when a swapped-in
  ``restore`` gave nothing); same conditions as ``colored``.

``info["bw"]`` says whether the photo was judged black-and-white (with ``info["bw_score"]``);
when it is B/W but no colorizer is installed, ``info["colorize_unavailable"]`` says why and only
``improved`` comes back. ``restore`` is called through the registry, whoever implements it.
"""

from __future__ import annotations

from . import bw, colorize
from .errors import EnhancerError
from .operation import Operation, Result, get
from .picture import Picture
from .progress import Progress, scaled


def _restore() -> Operation:
    """Whatever ``operations`` registered as ``restore`` (tests and installations may swap it)."""
    return get("restore")


def unavailable_reason() -> str | None:
    try:
        restore = _restore()
    except EnhancerError:  # UNKNOWN_OPERATION: no restore registered in this installation
        return "restore is not installed"
    reason = restore.unavailable_reason()
    return f"restore unavailable: {reason}" if reason else None


def run(picture: Picture, _params: dict, progress: Progress) -> Result:
    score = bw.bw_score(picture)
    is_bw = score <= bw.BW_THRESHOLD
    info: dict = {"bw": is_bw, "bw_score": round(score, 3)}
    colour_reason = colorize.unavailable_reason() if is_bw else None
    will_colorize = is_bw and colour_reason is None
    restore = _restore()
    restored = restore.run(
        picture, restore.clean_params({}), scaled(progress, 0.0, 0.6 if will_colorize else 1.0)
    )
    outputs: dict[str, Picture] = {}
    if "improved" in restored.outputs:
        outputs["improved"] = restored.outputs["improved"]
    if restored.info:
        info["restore"] = restored.info
    if is_bw and colour_reason:
        info["colorize_unavailable"] = colour_reason
    if will_colorize:
        base = outputs.get("improved", picture)
        outputs["colorized_improved"] = colorize.colorize(base, scaled(progress, 0.6, 0.8))
        if "improved" in outputs:
            outputs["colored"] = colorize.colorize(picture, scaled(progress, 0.8, 1.0))
        else:
            outputs["colored"] = outputs["colorized_improved"]
    return Result(outputs, info)

