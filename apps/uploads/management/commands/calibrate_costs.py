"""``manage.py calibrate_costs [operation ...]``: measure the cost model on this machine.

Each case runs the real operation through the local provider (decode, operation, encode: what a
worker does) on a synthetic photo of the given size, after one warm-up run that loads its model,
and stores ``seconds per megapixel`` for the case's cost key (the key a job of that operation,
parameters and size gets). The overhead stays the default's. Jobs then keep the rows current.
Heavy cases take minutes on a small CPU: name the operations you want, or pass ``--light``.
"""

from __future__ import annotations

import io
import time

import numpy as np
from django.core.management.base import BaseCommand, CommandParser
from PIL import Image

from apps import providers
from apps.imaging import operations, restore
from apps.imaging.errors import EnhancerError
from apps.imaging.progress import ignore
from apps.uploads import costs

# (operation, params, megapixels): heavy networks are timed on a photo big enough that its
# padded tiles cost about what they cost on a real photo, small enough to take a minute or two.
CASES: list[tuple[str, dict, float]] = [
    ("contrast", {}, 1.0),
    ("dehaze", {}, 1.0),
    ("restore", {}, 1.0),  # above the network's limit: the classical path
    ("restore", {}, 0.1),  # the network path
    ("improve", {}, 1.0),
    ("improve", {}, 0.1),
    ("colorize", {}, 1.0),
    ("upscale", {"factor": 2, "kind": "photo"}, 0.1),
    ("upscale", {"factor": 4, "kind": "photo"}, 0.1),
    ("upscale", {"factor": 2, "kind": "art"}, 0.1),
    ("upscale", {"factor": 4, "kind": "art"}, 0.1),
    ("upscale", {"factor": 2, "kind": "photo", "quality": "fast"}, 0.1),
    ("upscale", {"factor": 4, "kind": "photo", "quality": "fast"}, 0.1),
]


def noisy_photo(megapixels: float, seed: int = 0) -> bytes:
    """A 4:3 photo-like JPEG with gradients, edges and sensor-like noise (so restore repairs)."""
    width = max(64, int((megapixels * 1e6 * 4 / 3) ** 0.5))
    height = max(48, int(width * 3 / 4))
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack(
        [x / width, y / height, 0.5 + 0.3 * np.sin(x / 17.0) * np.cos(y / 23.0)], axis=2
    )
    rgb[(x // 40 + y // 40) % 2 == 0] *= 0.8
    rgb += np.random.default_rng(seed).normal(0, 0.06, rgb.shape).astype(np.float32)
    buffer = io.BytesIO()
    Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Measure seconds per megapixel of each operation here and store them as the cost model."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("operations", nargs="*", help="only these operations (default: all)")
        parser.add_argument("--light", action="store_true", help="only cases of the light class")
        parser.add_argument("--scale", type=float, default=1.0,
                            help="multiply every case's size (e.g. 0.5 for a quicker, rougher run)")

    def handle(self, *args, **options) -> None:
        wanted = set(options["operations"])
        local = providers.get("local")
        for operation, params, megapixels in CASES:
            if wanted and operation not in wanted:
                continue
            try:
                cleaned = operations.get(operation).clean_params(dict(params))
            except EnhancerError:
                continue  # a parameter this installation's operation does not take
            if operations.get(operation).unavailable_reason():
                self.stdout.write(f"skip {operation} {params}: unavailable here")
                continue
            data = noisy_photo(megapixels * options["scale"])
            info = Image.open(io.BytesIO(data)).size
            job_plan = costs.plan(operation, cleaned, *info)
            if options["light"] and job_plan.cost_class != costs.LIGHT:
                continue
            # Warm-up: load the model (and convert it once) outside the measurement.
            local.run(operation, noisy_photo(0.01, seed=1), cleaned, ignore)
            start = time.perf_counter()
            local.run(operation, data, cleaned, ignore)
            seconds = time.perf_counter() - start
            overhead, _ = costs.default_cost(*costs.parse_key(job_plan.key))
            rate = max(seconds - overhead, 0.0) / job_plan.megapixels
            if seconds < 2 * overhead:
                # Not much above the default overhead: split the time, so the rate stays positive
                # (a rate of zero would say any photo size costs the same).
                overhead = seconds / 2
                rate = seconds / 2 / job_plan.megapixels
            row = costs.record_calibration(job_plan.key, overhead, rate)
            self.stdout.write(
                f"{row.key}: {seconds:.2f} s for {job_plan.megapixels:.2f} MP → {row}"
            )
        self.stdout.write(f"(restore uses its network up to {restore.network_max_pixels()} pixels)")
