"""``make bench``: run every bench/bench_*.py, then gather their sections into docs/benchmarks.md.

Each benchmark script writes its own markdown section to docs/benchmarks/<name>.md, so one can be
re-run alone (``python bench/bench_ops.py``) without losing the others' numbers.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the engine, for the CPU description
SECTIONS = ROOT / "docs" / "benchmarks"


def cpu_description() -> str:
    from apps.imaging.runtimes import cpu_flags, cpu_model

    wanted = ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"]
    present = [flag for flag in wanted if flag in cpu_flags()]
    return f"{cpu_model()}, {os.cpu_count()} cores, SIMD: {', '.join(present) or 'baseline only'}"


def publish(lines: list[str], report: Path, write: bool = True) -> None:
    """Print a bench script's markdown section and, unless told not to, write it to ``report``
    (one of the SECTIONS files this script gathers into docs/benchmarks.md)."""
    section = "\n".join(lines) + "\n"
    print(section)
    if write:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(section)


def main(argv: list[str]) -> int:
    """``run.py`` runs all; ``run.py bench_ops`` runs one; ``run.py --collect`` runs none."""
    collect_only = "--collect" in argv
    only = {name for name in argv if not name.startswith("--")}
    SECTIONS.mkdir(parents=True, exist_ok=True)
    failed = []
    for script in sorted((ROOT / "bench").glob("bench_*.py")):
        if collect_only or (only and script.stem not in only):
            continue
        print(f"== {script.name}", flush=True)
        if subprocess.call([sys.executable, str(script)], cwd=ROOT) != 0:  # noqa: S603 - our own scripts
            failed.append(script.name)
    parts = [
        "# Benchmarks\n",
        f"Made by `make bench` (`python bench/run.py`) on {datetime.date.today()}: "
        f"{cpu_description()}, Python {platform.python_version()}. "
        "Each section below is written by its script in `bench/` and can be re-run alone.\n",
    ]
    parts += [section.read_text() for section in sorted(SECTIONS.glob("*.md"))]
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(parts))
    print("wrote docs/benchmarks.md")
    if failed:
        print("failed:", ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
