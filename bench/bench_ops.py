"""Engine benchmarks: dehaze and contrast at 1, 4 and 12 MP; face analysis per image and per MP.

Every case runs in a fresh subprocess so its peak memory (``ru_maxrss``) is its own; the table
shows the peak above the process's footprint just before the operation (input picture already
in memory, models loaded), and the whole process's peak. Times: one warm-up run, then the
median and the best of several runs.

    python bench/bench_ops.py            # writes docs/benchmarks/ops.md
    python bench/bench_ops.py --quick    # 1 MP only, fewer runs (a smoke test)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUTPUT = ROOT / "docs" / "benchmarks" / "ops.md"
SIZES_MP = (1, 4, 12)
RUNS = {1: 7, 4: 4, 12: 3}
GOALS = {("dehaze", 1): 0.3, ("contrast", 1): 0.1}
FACE_IMAGES = ("obama.jpg", "obama2.jpg", "biden.jpg", "two_people.jpg", "obama_partial_face.jpg")


def _fixtures() -> Path:
    return Path(os.environ.get("ENHANCER_FIXTURES", ROOT.parent / "shared" / "fixtures"))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _photo(megapixels: float):
    """A real photo (hazy_forest) resized to the size asked; synthetic when fixtures are absent."""
    import cv2
    import numpy as np

    from apps.imaging import codec
    from apps.imaging.picture import Picture

    width = round((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = round(megapixels * 1e6 / width)
    source = _fixtures() / "photos" / "hazy_forest.jpg"
    if source.exists():
        rgb = codec.decode(source.read_bytes()).rgb
    else:
        rng = np.random.default_rng(0)
        rgb = cv2.GaussianBlur(rng.random((768, 1024, 3), dtype=np.float32), (0, 0), 3)
    return Picture(cv2.resize(rgb, (width, height), interpolation=cv2.INTER_CUBIC), None, 8, "JPEG")


def case_operation(name: str, megapixels: float, runs: int) -> dict:
    from apps.imaging import operations

    picture = _photo(megapixels)
    operation = operations.get(name)
    warm = _photo(0.25)
    operation.run(warm, {}, lambda _f: None)
    del warm
    before = _peak_mb()
    times = []
    cpu_started = time.process_time()
    for _ in range(runs):
        started = time.perf_counter()
        operation.run(picture, {}, lambda _f: None)
        times.append(time.perf_counter() - started)
    return {
        "cpu_s": (time.process_time() - cpu_started) / runs,
        "median_s": statistics.median(times),
        "best_s": min(times),
        "peak_mb": _peak_mb(),
        "peak_over_input_mb": _peak_mb() - before,
        "megapixels": picture.megapixels,
    }


def case_faces() -> dict:
    import cv2

    from apps.imaging import codec, faces

    started = time.perf_counter()
    faces.warm_up()
    load_s = time.perf_counter() - started
    before = _peak_mb()
    rows = []
    for name in FACE_IMAGES:
        path = _fixtures() / "faces" / name
        if not path.exists():
            continue
        picture = codec.decode(path.read_bytes())
        rgb8 = picture.rgb8()
        scale = min(1.0, faces.DETECT_MAX_SIDE / max(picture.width, picture.height))
        small = (
            rgb8
            if scale >= 1
            else cv2.resize(
                rgb8,
                (round(picture.width * scale), round(picture.height * scale)),
                interpolation=cv2.INTER_AREA,
            )
        )
        faces.analyze(picture)  # warm this size
        detect, total = [], []
        for _ in range(3):
            t0 = time.perf_counter()
            faces._detect(small, faces.default_detector(), 1)
            detect.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            found = faces.analyze(picture)
            total.append(time.perf_counter() - t0)
        rows.append(
            {
                "image": name,
                "megapixels": picture.megapixels,
                "faces": len(found),
                "detect_s": statistics.median(detect),
                "analyze_s": statistics.median(total),
            }
        )
    return {
        "detector": faces.default_detector(),
        "load_s": load_s,
        "rows": rows,
        "peak_mb": _peak_mb(),
        "peak_over_models_mb": _peak_mb() - before,
    }


def _run_case(*args: str) -> dict:
    done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, __file__, "--case", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(f"case {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _markdown(ops: list[tuple[str, int, dict]], face: dict) -> str:
    lines = [
        "## Engine operations (`bench/bench_ops.py`)\n",
        "Input: `hazy_forest.jpg` resized to each size (4:3). One warm-up run, then the median "
        "(and best) of several runs, each case in a fresh process. Memory: peak RSS of the "
        "process, and the part of it the operation added over the input already in memory.\n",
        f"Load average while it ran: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
        "(wall times rise with other work on the machine; CPU time, summed over OpenCV's "
        "threads, does not).\n",
        "| operation | size | median | best | CPU time | goal (median) | peak RSS "
        "| added by the operation |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for name, mp, row in ops:
        goal = GOALS.get((name, mp))
        verdict = "" if goal is None else (f"< {goal} s {'✓' if row['median_s'] < goal else '✗'}")
        lines.append(
            f"| {name} | {row['megapixels']:.1f} MP | {row['median_s']:.3f} s | "
            f"{row['best_s']:.3f} s | {row['cpu_s']:.3f} s | {verdict} | {row['peak_mb']:.0f} MB | "
            f"{row['peak_over_input_mb']:.0f} MB |"
        )
    lines += [
        "",
        f"### Face analysis ({face.get('detector', 'hog')} detector, the default; detection on a copy "
        "≤ 1600 px long side)\n",
        f"Loading every face model (the detector, 5-point landmarks, ResNet embedder, Cydral age and "
        f"gender, FER emotion when installed): {face['load_s']:.2f} s once per process. "
        f"Peak RSS {face['peak_mb']:.0f} MB ({face['peak_over_models_mb']:.0f} MB over the "
        "loaded models).\n",
        "| image | size | faces | detection | full analysis | per face after detection | "
        "analysis per MP |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in face["rows"]:
        per_face = (row["analyze_s"] - row["detect_s"]) / max(1, row["faces"])
        lines.append(
            f"| {row['image']} | {row['megapixels']:.2f} MP | {row['faces']} | "
            f"{row['detect_s']:.3f} s | {row['analyze_s']:.3f} s | {per_face:.3f} s | "
            f"{row['analyze_s'] / row['megapixels']:.3f} s |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", nargs="+")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.case:
        kind = args.case[0]
        if kind == "faces":
            result = case_faces()
        else:
            result = case_operation(kind, float(args.case[1]), int(args.case[2]))
        print(json.dumps(result))
        return 0
    sizes = (1,) if args.quick else SIZES_MP
    ops = []
    for name in ("dehaze", "contrast"):
        for mp in sizes:
            runs = 2 if args.quick else RUNS[mp]
            row = _run_case(name, str(mp), str(runs))
            print(
                f"{name} {mp} MP: median {row['median_s']:.3f} s, best {row['best_s']:.3f} s, "
                f"peak {row['peak_mb']:.0f} MB (+{row['peak_over_input_mb']:.0f})",
                flush=True,
            )
            ops.append((name, mp, row))
    face = _run_case("faces")
    for row in face["rows"]:
        print(
            f"faces {row['image']}: {row['faces']} faces, detect {row['detect_s']:.3f} s, "
            f"analyze {row['analyze_s']:.3f} s",
            flush=True,
        )
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(_markdown(ops, face))
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
