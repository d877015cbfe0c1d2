"""What ``restore`` should do with a photo that crosses none of its thresholds.

    .venv/bin/python bench/measure_restore_gentle.py

Clean crops of the fixtures, mildly degraded (JPEG q50, noise 4/255, slight blur: each stays
under every threshold), then each candidate correction; PSNR / SSIM against the clean picture.
The "clean" rows say how far each candidate moves a photo that had nothing wrong. The numbers
chose ``restore.GENTLE_NETWORK_SHARE`` (see apps/imaging/restore.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apps.imaging import restore  # noqa: E402
from apps.imaging.picture import Picture  # noqa: E402
from tests.imaging.helpers import (  # noqa: E402
    add_noise,
    blur_downscale,
    fixture_picture,
    jpeg,
    psnr,
    ssim,
)


def network(rgb):
    return restore._network_restore(rgb, lambda _fraction: None)


def nlm(rgb):
    strength = max(restore.assess(Picture(rgb))["noise_sigma"] * 0.9, restore.GENTLE_DENOISE_STRENGTH)
    rgb8 = (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
    out = cv2.fastNlMeansDenoisingColored(rgb8, None, strength, strength * 0.8, 7, 21)
    return rgb + (out.astype(np.float32) - rgb8.astype(np.float32)) / 255.0


CANDIDATES = {
    "network": network,
    "half network": lambda rgb: 0.5 * network(rgb) + 0.5 * rgb,
    "nlm 3": nlm,
    "nlm 3 + unsharp": lambda rgb: restore._sharpen(nlm(rgb), amount=0.3),
}
DEGRADATIONS = {
    "jpeg q50": lambda rgb: jpeg(rgb, 50),
    "noise 4": lambda rgb: add_noise(rgb, 4.0),
    "blur": lambda rgb: blur_downscale(rgb, 0.5),
    "clean": lambda rgb: rgb,
}


def main() -> None:
    truths = {
        "alpha_children crop": fixture_picture("photos/alpha_children.png").rgb[60:188, 200:328],
        "alpha16_tree crop": fixture_picture("photos/alpha16_tree.png").rgb[:128, 100:228],
        "lowres_0014": fixture_picture("photos/lowres_0014.jpg").rgb,
    }
    print("| photo | degradation | input | " + " | ".join(CANDIDATES) + " |")
    print("|---" * (3 + len(CANDIDATES)) + "|")
    for name, truth in truths.items():
        truth = np.clip(truth, 0, 1).astype(np.float32)
        for label, degrade in DEGRADATIONS.items():
            seen = degrade(truth).astype(np.float32)
            cells = [f"{psnr(fn(seen), truth):.2f} / {ssim(fn(seen), truth):.3f}" for fn in CANDIDATES.values()]
            start = f"{psnr(seen, truth):.2f} / {ssim(seen, truth):.3f}"
            print(f"| {name} | {label} | {start} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
