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

from . import bw, colorize, networks
from .errors import EnhancerError
from .operation import Operation, Rate, Result, Work, get
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


def work(_params: dict, pixels: int) -> Work:
    restore = _restore()
    restoring = restore.work(restore.clean_params({}), pixels)
    path = restoring.key.get("path", "classical")
    if colorize.unavailable_reason() is None:
        # Whether the photo is black-and-white is judged by the worker; it may colorize.
        return Work(heavy=True, key={"path": f"{path}+colorize"})
    return Work(heavy=restoring.heavy, key={"path": path})


X4PLUS_RATE = networks.MODELS["photo-x4"].float_rate

OPERATION = Operation(
    "improve", "Improve", run, unavailable_reason=unavailable_reason,
    outputs=("improved", "colorized_improved", "colored"), work=work, heavy_in_cloud=True,
    # restore's rates, plus colorize's where it may colorize.
    rates=(
        Rate(0.5, 4.0, {"path": "classical"}),
        Rate(5.0, X4PLUS_RATE, {"path": "network"}, network="photo-x4"),
        Rate(2.5, 5.0, {"path": "classical+colorize"}),
        Rate(7.0, X4PLUS_RATE + 10.0, {"path": "network+colorize"}, network="photo-x4"),
    ),
)
