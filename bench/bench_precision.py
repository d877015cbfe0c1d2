"""bf16 against float32 for the upscale, end to end; writes docs/benchmarks/upscale_precision.md.

    python bench/bench_precision.py

Native bf16 is not faster on every CPU, so where the CPU has it ``runtimes.bf16_pays`` measures
once which precision wins (a block of convolutions, cached per CPU). This checks that choice
where the user sees it: the CLI (``python -m apps.imaging upscale``, x4 ``best``, a 384x384
photo) with the automatic choice, forced bf16 and forced float32, round-robin, best of 2.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_upscale import ROOT, cli, cpu_line, load_rgb  # noqa: E402

from apps.imaging import codec, config, runtimes  # noqa: E402
from apps.imaging.picture import Picture  # noqa: E402

REPEATS = 2


def main() -> None:
    lines = [
        "## Upscale precision (`bench/bench_precision.py`)",
        "",
        f"CPU: {cpu_line()}. Command: `python bench/bench_precision.py`.",
        "",
    ]
    if not runtimes.native_bf16():
        lines += ["No native bf16 here: float32 is the only choice, nothing to compare.", ""]
    else:
        probe = runtimes._time_conv_block()
        lines += [
            f"Probe (4 conv 3x3 64->64 + LeakyReLU on 96x96, best of 20): bf16 "
            f"{probe['bf16_ms']:.1f} ms, float32 {probe['f32_ms']:.1f} ms; automatic choice: "
            f"**{runtimes.precision_for('openvino')}**.",
            "",
            "| CLI x4 best, 384x384 -> 1536x1536 | seconds | vs forced bf16 | peak RSS |",
            "| --- | --- | --- | --- |",
        ]
        runs: dict[str, list[tuple[float, int]]] = {"auto": [], "bf16": [], "f32": []}
        with tempfile.TemporaryDirectory() as folder:
            source = Path(folder) / "in384.png"
            rgb = np.ascontiguousarray(load_rgb("faces/obama.jpg")[250:634, 250:634])
            source.write_bytes(codec.encode(Picture(rgb), "PNG"))
            args = ["upscale", str(source), str(Path(folder) / "out.png"), "--factor", "4"]
            for precision in runs:  # compile and cache each model first, as a worker's first job
                cli(*args, env={config.PRECISION_ENV: precision})
            for _ in range(REPEATS):
                for precision in runs:
                    runs[precision].append(cli(*args, env={config.PRECISION_ENV: precision}))
        bf16_seconds = min(runs["bf16"])[0]
        for precision, measured in runs.items():
            seconds, peak = min(measured)
            lines.append(
                f"| `{config.PRECISION_ENV}={precision}` | {seconds:.1f} | "
                f"{bf16_seconds / seconds:.2f}x | {peak / 2**30:.2f} GiB |"
            )
        lines.append("")
    lines += [f"Load average (1 min) at the end: {os.getloadavg()[0]:.1f}.", ""]
    out = ROOT / "docs" / "benchmarks" / "upscale_precision.md"
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
