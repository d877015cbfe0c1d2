"""int8 for a network's trunk: made once here with NNCF, used only where it passes the gate.

NNCF (``pip install -e .[int8]``) is needed only to make the quantized graph
(``python -m apps.imaging quantize``); the engine runs without it and says so. The graph is
post-training quantized on photo crops given at that time (the fixtures and degradations made
from them: downscaled, JPEG-compressed), with the first and last convolutions of the trunk kept
in floating point and the head (the upsampling and the output convolution) never quantized.

Three things keep RRDBNet's int8 within the gate (measured on a Zen 5 EPYC and an Intel Xeon,
docs/benchmarks.md; NNCF's defaults gave 24 dB on the worst held-out tile):

* the residual stream stays float: NNCF would put an 8-bit quantizer on the input of every
  residual addition, rounding the stream 69 times over (24 -> 36 dB);
* each dense block's convolutions read a concatenation of the stream and the block's own
  features; they run as a sum of one convolution per input (graphs.without_concats, as the
  float trunk does), each with its own int8 scales;
* in the convolution that writes back into the stream, the weights reading the stream peak at
  15-22x their rms per output channel, and the peak is the centre tap (a near-identity path):
  one int8 scale per output channel spends its steps on it (2-4 % weight error, against under
  1 % elsewhere). The centre taps run apart as a 1x1 convolution kept float
  (:func:`float_centres`; 1.7 % of the work), the ring around them in int8 (0.5-0.8 %):
  42.96 dB, where keeping the whole stream half float (15 % of the work, the earlier recipe)
  gave 41.7 dB and ran the trunk 1.3-1.5x slower on an Intel Xeon without AMX.

Calibration crops are 128 px: activation ranges seen on 64 px crops clipped larger photos
(39.5 dB on a 384 px crop of a held-out photo, against 43.4 dB).

It is then run against the float32 graph on photo tiles that were not used for calibration and
kept only if every tile reaches :data:`PSNR_BAR` (the verdict is stored beside the graph:
``<trunk>-int8.json``). A graph under the bar is kept on disk for inspection but never used.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from . import model_files

log = logging.getLogger(__name__)

PSNR_BAR = 40.0  # dB against float32, on tiles not used for calibration
RECIPE = 2  # how the graph is made (quantize); a graph made otherwise is made again


def nncf_missing() -> str | None:
    import importlib.util

    if importlib.util.find_spec("nncf") is None:
        return "NNCF not installed (pip install -e .[int8]); int8 cannot be made here"
    return None


def paths(trunk: Path) -> tuple[Path, Path]:
    """(quantized OpenVINO IR .xml, verdict .json) for a trunk graph."""
    return trunk.with_name(trunk.stem + "-int8.xml"), trunk.with_name(trunk.stem + "-int8.json")


def verdict(trunk: Path) -> dict | None:
    """The stored gate result for ``trunk``'s int8 graph; None where none was made (or made by
    an earlier recipe)."""
    xml, report = paths(trunk)
    try:
        result = json.loads(report.read_text())
    except (OSError, ValueError):
        return None
    return result if xml.is_file() and result.get("recipe") == RECIPE else None


def psnr(reference: np.ndarray, candidate: np.ndarray) -> float:
    """PSNR in dB of the [0, 1]-clipped images (inf when identical)."""
    a = np.clip(reference, 0.0, 1.0).astype(np.float64)
    b = np.clip(candidate, 0.0, 1.0).astype(np.float64)
    mse = float(np.mean((a - b) ** 2))
    return float("inf") if mse == 0 else 10.0 * np.log10(1.0 / mse)


def gate(
    reference: Callable[[np.ndarray], np.ndarray],
    candidate: Callable[[np.ndarray], np.ndarray],
    tiles: Iterable[np.ndarray],
    bar: float = PSNR_BAR,
) -> dict:
    """Run both on every tile (C x H x W); passes only if the worst tile reaches ``bar``."""
    scores = [psnr(reference(tile), candidate(tile)) for tile in tiles]
    if not scores:
        raise ValueError("the gate needs at least one evaluation tile")
    worst = min(scores)
    return {"psnr_min": round(worst, 2), "psnr_tiles": [round(s, 2) for s in scores],
            "bar": bar, "passed": bool(worst >= bar)}


def float_centres(model) -> list[str]:
    """Rewrite the ONNX ``model`` as the engine's float trunk (graphs.without_concats: no
    Concats, scales folded) and split the centre taps off each convolution that writes back
    into the stream (as many output channels as the stream has; graphs.split_centre_taps).
    Returns those 1x1 centre convolutions: they stay float."""
    from . import graphs

    split = graphs.without_concats(model)
    return graphs.split_centre_taps(
        model, [names[0] for names, widths, out in split if out == widths[0]])


def quantize(trunk: Path, calibration: list[np.ndarray]):
    """The NNCF int8 model of ``trunk`` (an ONNX graph) and the convolutions kept float: the
    first and the last, and the centre taps of :func:`float_centres`."""
    import nncf
    import onnx
    import openvino as ov

    rewritten = onnx.load(str(trunk))
    centres = set(float_centres(rewritten))
    model = ov.Core().read_model(rewritten.SerializeToString(), b"")
    convolutions = [op.get_friendly_name() for op in model.get_ordered_ops()
                    if op.get_type_name() == "Convolution"]
    keep = sorted({convolutions[0], convolutions[-1]} | {
        name for name in convolutions if name.split("/")[0] in centres
    })
    quantized = nncf.quantize(
        model,
        nncf.Dataset([tile[None].astype(np.float32) for tile in calibration]),
        preset=nncf.QuantizationPreset.MIXED,  # asymmetric activations: LeakyReLU goes negative
        subset_size=len(calibration),
        # Add and Multiply: the residual stream and its scaling stay float.
        ignored_scope=nncf.IgnoredScope(names=keep, types=["Add", "Multiply"], validate=False),
        fast_bias_correction=True,
    )
    return quantized, keep


def build(
    trunk: Path,
    finish: Callable[[np.ndarray], np.ndarray],
    calibration: list[np.ndarray],
    evaluation: list[np.ndarray],
    compile_config: dict,
    bar: float = PSNR_BAR,
    rivals: dict[str, Callable[[np.ndarray], np.ndarray]] | None = None,
) -> dict:
    """Quantize ``trunk``, gate it end to end (trunk then ``finish``, the float head) against the
    float32 trunk on ``evaluation`` tiles, and store the graph and the verdict beside ``trunk``.
    ``rivals``: other float runs of the same trunk (``{"ncnn": run}``) raced with it."""
    import openvino as ov

    from .graphs import concat_free

    quantized, keep = quantize(trunk, calibration)
    core = ov.Core()

    def runner(model, config):
        request = core.compile_model(model, "CPU", config).create_infer_request()

        def run(tile: np.ndarray) -> np.ndarray:
            request.infer({0: np.ascontiguousarray(tile[None], np.float32)})
            return finish(np.array(request.get_output_tensor(0).data[0], np.float32))

        return run

    reference = runner(str(trunk), {**compile_config, "INFERENCE_PRECISION_HINT": "f32"})
    candidate = runner(quantized, compile_config)
    result = gate(reference, candidate, evaluation, bar)
    import nncf

    precision = compile_config.get("INFERENCE_PRECISION_HINT", "f32")
    result.update(
        recipe=RECIPE, kept_float=keep, calibration_tiles=len(calibration), nncf=nncf.__version__,
        precision=precision,
        # The float graph the engine runs (networks._build) against int8 and any rivals.
        speed=_race({"float": runner(str(concat_free(trunk)), compile_config),
                     "int8": candidate, **(rivals or {})}, evaluation[0], precision),
    )
    xml, report = paths(trunk)
    ov.save_model(quantized, str(xml))
    model_files.write_atomically(report, json.dumps(result, indent=1).encode())
    log.info("int8 %s: %s", trunk.name, result)
    return result


def _race(runs: dict[str, Callable[[np.ndarray], np.ndarray]], tile: np.ndarray,
          precision: str, rounds: int = 3) -> dict:
    """Best-of seconds (``<name>_s``) of each run of the trunk on one tile, alternated, on this
    CPU (``cpu``: runtimes.probe_key): the float choice, int8 and any rivals. The probe's block
    of convolutions is all int8; the trunk keeps some float, and on an AMX Xeon its int8 was no
    faster than bf16."""
    import time

    from . import runtimes

    best = {f"{name}_s": float("inf") for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run(tile)
            best[f"{name}_s"] = round(min(best[f"{name}_s"], time.perf_counter() - start), 3)
    return {"cpu": runtimes.probe_key(), "float": precision,
            "tile_px": int(tile.shape[-1] * tile.shape[-2]), **best}


# --------------------------------------------------------------------------- photo crops


def calibration_crops(photos: Iterable[np.ndarray], count: int, side: int, seed: int = 0
                      ) -> list[np.ndarray]:
    """``count`` C x side x side crops of the photos (H x W x 3 float32 in [0, 1]) and of their
    degradations — area-downscaled by 2 or 3, JPEG at quality 40..90 — as uploads arrive."""
    import cv2

    rng = np.random.default_rng(seed)
    sources = [np.asarray(photo, np.float32) for photo in photos]
    sources = [s for s in sources if min(s.shape[:2]) >= side]
    if not sources:
        raise ValueError(f"no photo of at least {side}x{side} to calibrate on")
    crops = []
    while len(crops) < count:
        image = sources[len(crops) % len(sources)]
        shrink = int(rng.choice([1, 2, 3]))
        if shrink > 1 and min(image.shape[:2]) // shrink >= side:
            size = (image.shape[1] // shrink, image.shape[0] // shrink)
            image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        y = int(rng.integers(0, image.shape[0] - side + 1))
        x = int(rng.integers(0, image.shape[1] - side + 1))
        crop = np.ascontiguousarray(image[y : y + side, x : x + side])
        if rng.random() < 0.5:
            quality = int(rng.integers(40, 91))
            ok, data = cv2.imencode(".jpg", np.round(crop * 255).astype(np.uint8),
                                    [cv2.IMWRITE_JPEG_QUALITY, quality])
            if ok:
                crop = cv2.imdecode(data, cv2.IMREAD_UNCHANGED).astype(np.float32) / 255
        crops.append(np.ascontiguousarray(crop.transpose(2, 0, 1)))
    return crops
