"""Face detectors side by side on the fixtures: BlazeFace full-range (the default), dlib HOG
(upsample 1, the old default) and dlib MMOD (CNN).

Cases, each with the number of faces it shows (SOURCES.md of the fixtures; every face counted
by eye):

* frontal — the five face photos, alpha_children.png (5 children), gray_00017.png (2);
* turned — each single-face photo turned in depth by a perspective warp that squeezes one side
  (a stand-in for a head turned ~40°: the fixtures have no profile photos) and rotated in plane
  by 25°;
* small — two_people.jpg and alpha_children.png shrunk so faces are ~32–40 px wide, pasted on a
  1280×800 grey canvas;
* none — hazy_forest.jpg, hazy_canon.bmp, baboon_gt.png (any face found is a false positive).

A face counts as found when a detection's box centre falls inside the expected face: the boxes
of the faces every detector agrees on in the original photo, mapped through the same transform.
Time is the detection step alone, per megapixel, best of 2.

Writes docs/benchmarks/face_detectors.md.
Usage:  .venv/bin/python bench/bench_face_detectors.py [--no-cnn]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "benchmarks" / "face_detectors.md"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ENHANCER_MODEL_DIR", str(ROOT / "var" / "models"))

from apps.imaging import codec, faces  # noqa: E402
from bench.run import cpu_description, publish  # noqa: E402
from tests.helpers import fixtures_dir  # noqa: E402

FRONTAL = {
    "faces/obama.jpg": 1, "faces/obama2.jpg": 1, "faces/biden.jpg": 1, "faces/two_people.jpg": 2,
    "faces/obama_partial_face.jpg": 1, "photos/alpha_children.png": 5, "photos/gray_00017.png": 2,
}
SINGLE = ["faces/obama.jpg", "faces/obama2.jpg", "faces/biden.jpg"]
SMALL = {"faces/two_people.jpg": 36, "photos/alpha_children.png": 36}  # target face width, px
NONE = ["photos/hazy_forest.jpg", "photos/hazy_canon.bmp", "photos/baboon_gt.png"]


def _rgb(name: str) -> np.ndarray:
    return np.ascontiguousarray(codec.decode((fixtures_dir() / name).read_bytes()).rgb8())


def _detect(rgb: np.ndarray, detector: str) -> tuple[list[tuple], float]:
    """Boxes in ``rgb`` pixels, and the best of two detection times."""
    height, width = rgb.shape[:2]
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        # As faces.analyze does: a copy of at most DETECT_MAX_SIDE (MMOD: CNN_MAX_SIDE) px.
        limit = faces.CNN_MAX_SIDE if detector == "cnn" else faces.DETECT_MAX_SIDE
        scale = min(1.0, limit / max(height, width))
        small = rgb if scale == 1.0 else cv2.resize(
            rgb, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        found = faces._detect(small, detector, 1)
        best = min(best, time.perf_counter() - started)
    return [tuple(v / scale for v in box) for box, _ in found], best


def _hits(found: list[tuple], expected: list[tuple]) -> int:
    """Expected faces with a detection centred inside them."""
    hits = 0
    for left, top, right, bottom in expected:
        hits += any(
            left <= (b[0] + b[2]) / 2 <= right and top <= (b[1] + b[3]) / 2 <= bottom for b in found
        )
    return hits


def _warp_boxes(boxes: list[tuple], matrix: np.ndarray) -> list[tuple]:
    out = []
    for left, top, right, bottom in boxes:
        corners = np.float32([[left, top], [right, top], [right, bottom], [left, bottom]])
        moved = cv2.perspectiveTransform(corners[None], matrix)[0]
        out.append((*moved.min(axis=0), *moved.max(axis=0)))
    return out


def _turned(rgb: np.ndarray, boxes: list[tuple]) -> list[tuple[str, np.ndarray, list[tuple]]]:
    height, width = rgb.shape[:2]
    (left, top, right, bottom), = boxes
    # Squeeze the face's right half towards its centre line and shrink that side's height: the
    # projection of a head turned about 40° (cos 40° ≈ 0.77 on the far side).
    mid = (left + right) / 2
    src = np.float32([[left, top], [right, top], [right, bottom], [left, bottom]])
    far = mid + (right - mid) * 0.55
    shrink = (bottom - top) * 0.08
    dst = np.float32([[left, top], [far, top + shrink], [far, bottom - shrink], [left, bottom]])
    yaw = cv2.getPerspectiveTransform(src, dst)
    yawed = cv2.warpPerspective(rgb, yaw, (width, height), borderMode=cv2.BORDER_REPLICATE)
    centre = ((left + right) / 2, (top + bottom) / 2)
    roll = np.vstack([cv2.getRotationMatrix2D(centre, 25, 1.0), [0, 0, 1]])
    rolled = cv2.warpAffine(rgb, roll[:2], (width, height), borderMode=cv2.BORDER_REPLICATE)
    return [("yaw ~40°", yawed, _warp_boxes(boxes, yaw)), ("roll 25°", rolled, _warp_boxes(boxes, roll))]


def _small(rgb: np.ndarray, boxes: list[tuple], face_px: int) -> tuple[np.ndarray, list[tuple]]:
    widest = max(right - left for left, _, right, _ in boxes)
    scale = face_px / widest
    small = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)),
                       interpolation=cv2.INTER_AREA)
    canvas = np.full((800, 1280, 3), 128, np.uint8)
    y, x = 300, 500
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return canvas, [
        (left * scale + x, top * scale + y, right * scale + x, bottom * scale + y)
        for left, top, right, bottom in boxes
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-cnn", action="store_true", help="skip dlib MMOD (10–30 s a photo)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    detectors = ["blazeface", "hog"] + ([] if args.no_cnn else ["cnn"])
    for detector in detectors:
        faces._load(detector)
    load_before = os.getloadavg()[0]

    # Ground truth: the boxes HOG and BlazeFace agree on in each original photo (checked against
    # the counts above, which were made by eye).
    truth: dict[str, list[tuple]] = {}
    for name, count in FRONTAL.items():
        found, _ = _detect(_rgb(name), "hog")
        assert len(found) == count, (name, len(found))
        truth[name] = found

    cases: list[tuple[str, str, np.ndarray, list[tuple]]] = []
    for name in FRONTAL:
        cases.append(("frontal", name, _rgb(name), truth[name]))
    for name in SINGLE:
        for label, image, boxes in _turned(_rgb(name), truth[name]):
            cases.append(("turned", f"{name} {label}", image, boxes))
    for name, face_px in SMALL.items():
        image, boxes = _small(_rgb(name), truth[name], face_px)
        cases.append(("small", f"{name} faces {face_px} px", image, boxes))
    for name in NONE:
        cases.append(("none", name, _rgb(name), []))

    totals = {d: {"found": {}, "expected": {}, "false": 0, "seconds": 0.0, "mp": 0.0} for d in detectors}
    rows = []
    for kind, name, image, boxes in cases:
        cells = []
        for detector in detectors:
            found, seconds = _detect(image, detector)
            hits = _hits(found, boxes)
            false = len(found) - hits if kind == "none" else max(0, len(found) - len(boxes))
            total = totals[detector]
            total["found"][kind] = total["found"].get(kind, 0) + hits
            total["expected"][kind] = total["expected"].get(kind, 0) + len(boxes)
            total["false"] += false
            total["seconds"] += seconds
            total["mp"] += image.shape[0] * image.shape[1] / 1e6
            cells.append(f"{hits}/{len(boxes)}{f' +{false}' if false else ''} {seconds:.2f} s")
        rows.append(f"| {kind} | {name} | " + " | ".join(cells) + " |")
        print(rows[-1], file=sys.stderr, flush=True)

    lines = [
        "## Face detectors (bench/bench_face_detectors.py)",
        "",
        f"CPU: {cpu_description()}; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
        "(the machine was shared with other developers' work: compare the columns, not absolute "
        "times). Each cell: faces found / faces there (+ false detections), detection time (best "
        "of 2). BlazeFace: full-range model on a copy of at most 1600 px and on overlapping tiles of it of a half and a quarter of its long side, each at 192 px; HOG: "
        "upsample 1 on a copy of at most 1600 px; MMOD: upsample 1 on a copy of at most 800 px.",
        "",
        "| case | photo | " + " | ".join(detectors) + " |",
        "| --- | --- |" + " ---: |" * len(detectors),
        *rows,
        "",
        "| detector | frontal | turned | small | false detections | detection s per MP |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for detector in detectors:
        total = totals[detector]
        recall = [
            f"{total['found'][k]}/{total['expected'][k]}" for k in ("frontal", "turned", "small")
        ]
        lines.append(
            f"| {detector} | {' | '.join(recall)} | {total['false']} | "
            f"{total['seconds'] / total['mp']:.3f} |"
        )
    publish(lines, REPORT, write=not args.no_write)


if __name__ == "__main__":
    main()
