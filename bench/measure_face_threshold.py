"""Measure where to put the face-match threshold (cosine similarity of dlib embeddings).

Faces come from the shared fixtures (../shared/fixtures/faces) plus augmented copies of each
photo — rescaled, re-compressed as JPEG, brighter / darker, slightly rotated — so the numbers
include the variation a re-uploaded or re-shot photo brings. Every pair of faces is scored:

* same photo     — two variants of one source photo (the easiest "same" pairs);
* same person    — faces of one person from different photos;
* different      — faces of different people.

Identities: obama.jpg, obama2.jpg, obama_partial_face.jpg are Obama, biden.jpg is Biden; the two
faces of two_people.jpg are labelled by their nearest unaugmented single-person photo.

Usage:  .venv/bin/python bench/measure_face_threshold.py [--write docs/face_threshold.md]
"""

from __future__ import annotations

import argparse
import io
import itertools
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.imaging import codec, faces  # noqa: E402
from tests.helpers import fixtures_dir  # noqa: E402

PHOTOS = {
    "obama.jpg": "obama",
    "obama2.jpg": "obama",
    "obama_partial_face.jpg": "obama",
    "biden.jpg": "biden",
    "two_people.jpg": None,  # two faces, labelled by nearest reference
}
CANDIDATES = [0.80, 0.82, 0.84, 0.86, 0.88, 0.90, 0.92, 0.94, 0.96]


def _jpeg(image: Image.Image, quality: int = 95) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def variants(data: bytes) -> dict[str, bytes]:
    image = Image.open(io.BytesIO(data))
    image.load()
    width, height = image.size
    out = {"original": data}
    for scale in (0.5, 0.75, 1.5):
        out[f"scale {scale}"] = _jpeg(
            image.resize((round(width * scale), round(height * scale)), Image.Resampling.LANCZOS)
        )
    for quality in (25, 50):
        out[f"jpeg q{quality}"] = _jpeg(image, quality)
    for factor in (0.6, 1.4):
        out[f"brightness {factor}"] = _jpeg(ImageEnhance.Brightness(image).enhance(factor))
    for angle in (-10, -5, 5, 10):
        out[f"rotate {angle}°"] = _jpeg(
            image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(128,) * 3)
        )
    return out


def unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path, help="write the markdown report here")
    args = parser.parse_args()

    started = time.perf_counter()
    samples: list[tuple[str, str, str, np.ndarray]] = []  # (photo, variant, person, unit vector)
    missed: list[str] = []
    references: dict[str, np.ndarray] = {}
    for photo, person in PHOTOS.items():
        data = (fixtures_dir() / "faces" / photo).read_bytes()
        for variant, payload in variants(data).items():
            found = faces.analyze(codec.decode(payload))
            expected = 2 if person is None else 1
            if len(found) != expected:
                missed.append(f"{photo} / {variant}: {len(found)} faces (expected {expected})")
                continue
            for face in found:
                vector = unit(face.embedding)
                label = person
                if label is None:
                    label = max(references, key=lambda name, v=vector: float(references[name] @ v))
                if variant == "original" and person is not None and person not in references:
                    references[person] = vector
                samples.append((photo, variant, label, vector))
            print(f"{photo:26s} {variant:16s} {len(found)} face(s)", file=sys.stderr)

    same_photo, same_person, different = [], [], []
    for a, b in itertools.combinations(samples, 2):
        similarity = float(a[3] @ b[3])
        if a[2] != b[2]:
            different.append(similarity)
        elif a[0] == b[0]:
            same_photo.append(similarity)
        else:
            same_person.append(similarity)
    same = np.array(same_photo + same_person)
    diff = np.array(different)

    lines = [
        "## Measured (bench/measure_face_threshold.py)",
        "",
        f"{len(samples)} faces from {len(PHOTOS)} photos, each as the original and 11 augmented "
        "copies (scale 0.5/0.75/1.5, JPEG q25/q50, brightness 0.6/1.4, rotation ±5°/±10°); "
        "analysis took "
        f"{time.perf_counter() - started:.0f} s.",
        "",
        "| pairs | count | min | p1 | median | max |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, values in (("same photo, augmented", same_photo), ("same person, other photo", same_person),
                         ("different persons", different)):
        v = np.array(values)
        lines.append(
            f"| {name} | {len(v)} | {v.min():.3f} | {np.percentile(v, 1):.3f} | "
            f"{np.median(v):.3f} | {v.max():.3f} |"
        )
    lines += [
        "",
        "| threshold (cosine) | same pairs rejected (FRR) | different pairs accepted (FAR) |",
        "| ---: | ---: | ---: |",
    ]
    for threshold in CANDIDATES:
        lines.append(
            f"| {threshold:.2f} | {np.mean(same < threshold) * 100:.1f} % | "
            f"{np.mean(diff >= threshold) * 100:.1f} % |"
        )
    gap_low, gap_high = float(diff.max()), float(same.min())
    lines += [
        "",
        f"Gap between the most similar different pair ({gap_low:.3f}) and the least similar same "
        f"pair ({gap_high:.3f}).",
    ]
    if missed:
        lines += ["", "Variants where detection did not find the expected faces (left out):", ""]
        lines += [f"- {item}" for item in missed]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.write:
        text = args.write.read_text() if args.write.exists() else ""
        marker = "## Measured (bench/measure_face_threshold.py)"
        head = text.split(marker)[0] if marker in text else text
        args.write.write_text(head + report)


if __name__ == "__main__":
    main()
