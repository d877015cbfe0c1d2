"""Make the landing page's before/after examples with the engine itself, from the shared fixtures.

    .venv/bin/python scripts/make_examples.py [--fixtures DIR] [OPERATION ...]

Writes static/img/examples/<operation>-before.jpg, <operation>-after.jpg and examples.json (the
operation, the fixture it came from and the sizes); naming operations remakes only those. The pictures are committed, so the site
never needs the fixtures; run this again when an operation changes. An operation that cannot run
here (``colorize`` without its model) is left out and said so, never drawn.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.imaging import codec, operations  # noqa: E402
from apps.imaging.errors import EnhancerError  # noqa: E402

OUT = ROOT / "static" / "img" / "examples"
# Long side of the committed JPEGs: enough for a card on a wide screen, small in the repository.
SIDE = 560

def degraded(data: bytes) -> bytes:
    """The fixture as a worn copy would be: smaller, grainy, saved as a low-quality JPEG. No
    fixture crosses a repair threshold as it is (restore would give only its gentle correction)."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image = image.resize((240, round(240 * image.height / image.width)), Image.Resampling.LANCZOS)
    pixels = np.asarray(image).astype(np.float32)
    pixels += np.random.default_rng(7).normal(0, 14, pixels.shape)
    out = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=18)
    return out.getvalue()


PREPARED = {degraded: "made worse first: 240 px wide, grain, JPEG quality 18"}

# operation, parameters, fixture, output shown, the fixture's origin (fixtures/SOURCES.md),
# how the fixture is prepared first (None: as it is)
EXAMPLES = [
    ("dehaze", {}, "photos/hazy_forest.jpg", "dehazed", "dark channel prior demo images (He et al.)", None),
    ("contrast", {}, "photos/hazy_canon.bmp", "contrasted", "dark channel prior demo images (He et al.)", None),
    ("upscale", {"factor": 4, "kind": "photo"}, "photos/lowres_0014.jpg", "resolved", "xinntao/Real-ESRGAN inputs", None),
    ("restore", {}, "photos/baboon_gt.png", "improved", "xinntao/Real-ESRGAN tests", degraded),
    ("improve", {}, "photos/gray_00017.png", "improved", "xinntao/Real-ESRGAN inputs", None),
    ("colorize", {}, "photos/gray_00017.png", "colored", "xinntao/Real-ESRGAN inputs", None),
]


def _jpeg(data: bytes, size: tuple[int, int]) -> bytes:
    """``data`` as an sRGB JPEG of exactly ``size`` (the before is enlarged like a browser would:
    bicubic, so an upscale example shows what plain enlarging gives)."""
    image = Image.open(io.BytesIO(data))
    image = image.convert("RGBA") if "A" in image.getbands() else image.convert("RGB")
    if image.mode == "RGBA":  # a page background under transparent pixels
        backdrop = Image.new("RGB", image.size, (255, 255, 255))
        backdrop.paste(image, mask=image.getchannel("A"))
        image = backdrop
    image = image.resize(size, Image.Resampling.BICUBIC if size[0] > image.width else Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=82, optimize=True, progressive=True)
    return out.getvalue()


def make(fixtures: Path, only: set[str]) -> list[dict]:
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = OUT / "examples.json"
    kept = json.loads(manifest.read_text()) if only and manifest.exists() else []
    made = [item for item in kept if item["operation"] not in only]
    for operation, params, fixture, kind, origin, prepare in EXAMPLES:
        if only and operation not in only:
            continue
        data = (fixtures / fixture).read_bytes()
        if prepare is not None:
            data = prepare(data)
        cleaned = operations.get(operation).clean_params(params)
        try:
            result = operations.run(operation, codec.decode(data), cleaned, lambda _fraction: None)
        except EnhancerError as error:
            print(f"{operation}: left out ({error.message})")
            (OUT / f"{operation}-before.jpg").unlink(missing_ok=True)
            (OUT / f"{operation}-after.jpg").unlink(missing_ok=True)
            continue
        if kind not in result.outputs:
            print(f"{operation}: left out ({fixture} gave no {kind!r}: {sorted(result.outputs)})")
            continue
        after = codec.encode(result.outputs[kind], "PNG")
        width, height = Image.open(io.BytesIO(after)).size
        scale = min(1.0, SIDE / max(width, height))
        size = (round(width * scale), round(height * scale))
        (OUT / f"{operation}-before.jpg").write_bytes(_jpeg(data, size))
        (OUT / f"{operation}-after.jpg").write_bytes(_jpeg(after, size))
        before_size = Image.open(io.BytesIO(data)).size
        made.append(
            {
                "operation": operation,
                "params": params,
                "fixture": fixture,
                "origin": origin,
                "prepared": PREPARED.get(prepare, ""),
                "output": kind,
                "input_size": list(before_size),
                "output_size": [width, height],
                "shown_size": list(size),
            }
        )
        print(f"{operation}: {fixture} {before_size} → {kind} {width}x{height}")
    order = [example[0] for example in EXAMPLES]
    made.sort(key=lambda item: order.index(item["operation"]))
    manifest.write_text(json.dumps(made, indent=2, ensure_ascii=False) + "\n")
    return made


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fixtures", type=Path, default=ROOT.parent / "shared" / "fixtures")
    parser.add_argument("operations", nargs="*", help="only these (default: all)")
    args = parser.parse_args()
    unknown = set(args.operations) - {example[0] for example in EXAMPLES}
    if unknown:
        parser.error(f"no example for {', '.join(sorted(unknown))}")
    make(args.fixtures, set(args.operations))
