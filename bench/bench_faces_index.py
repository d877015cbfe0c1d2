"""Face index speed: search latency at 10k / 100k / 1M faces in one space, memory per million
faces, build time, and end-to-end recognize time for a 1-megapixel photo.

The index is apps.face_registry.index.SpaceIndex on faiss (exact flat float32 below
FLAT_MAX_ROWS faces, IVF with 8-bit scalar-quantized codes above). ``--compare REV`` runs the
same queries, in the same process, against the hand-written numpy IVF it replaced, read from git
revision REV (default b2dc999, the last commit with it). Embeddings are synthetic unit vectors
(no cluster structure: harder for an IVF than real faces); each query is an enrolled vector plus
Gaussian noise giving cosine ≈ 0.93 (a typical same-person pair, see docs/face_threshold.md),
and recall@1 is how often the right person comes first.

Latency is wall time per query (p50, p95) and, because the machine may be shared, also the
calling thread's CPU time (p95), which waiting for a core does not inflate.

Usage:  .venv/bin/python bench/bench_faces_index.py [--sizes 10000,100000,1000000] [--compare REV]
Writes its section of docs/benchmarks/faces_index.md.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REPORT = ROOT / "docs" / "benchmarks" / "faces_index.md"
QUERIES = 500
NOISE = 0.035  # per-component sigma: cosine(query, source) ≈ 1 / sqrt(1 + 128 sigma²) ≈ 0.93


def _django() -> None:
    """A throwaway database and media folder, so the bench never touches real data."""
    scratch = Path(tempfile.mkdtemp(prefix="bench-faces-"))
    os.environ["ENHANCER_VAR_DIR"] = str(scratch)
    os.environ["MEDIA_ROOT"] = str(scratch / "media")
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "enhancer_site.settings_test"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _old_index(revision: str) -> types.ModuleType:
    """The numpy IVF index module as it was at ``revision``."""
    source = subprocess.run(  # noqa: S603 - a fixed git command
        ["git", "show", f"{revision}:apps/face_registry/index.py"],  # noqa: S607
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    source = source.replace("from .models import", "from apps.face_registry.models import")
    module = types.ModuleType("old_face_index")
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(source, f"{revision}:index.py", "exec"), module.__dict__)  # noqa: S102
    return module


def _time_queries(search, queries, sources, person_ids) -> dict:
    for query in queries[:10]:  # warm caches
        search(query)
    wall, cpu, hits = [], [], 0
    for source, query in zip(sources, queries, strict=True):
        started, started_cpu = time.perf_counter(), time.thread_time()
        found = search(query)
        cpu.append(time.thread_time() - started_cpu)
        wall.append(time.perf_counter() - started)
        hits += bool(found) and found[0].person_id == person_ids[source]
    return {
        "p50_ms": float(np.percentile(wall, 50) * 1e3),
        "p95_ms": float(np.percentile(wall, 95) * 1e3),
        "cpu_p95_ms": float(np.percentile(cpu, 95) * 1e3),
        "recall": hits / len(queries),
    }


def bench_search(size: int, rng: np.random.Generator, old: types.ModuleType | None) -> list[dict]:
    from apps.face_registry.index import SpaceIndex, normalise

    vectors = normalise(rng.standard_normal((size, 128), dtype=np.float32))
    person_ids = np.arange(1, size + 1, dtype=np.int64)
    face_ids = np.arange(1, size + 1, dtype=np.int64)
    sources = rng.choice(size, QUERIES, replace=False)
    queries = vectors[sources] + NOISE * rng.standard_normal((QUERIES, 128), dtype=np.float32)
    cosine = float(np.median(np.sum(normalise(queries) * vectors[sources], axis=1)))
    rows = []

    gc.collect()
    before = _rss_mb()
    started = time.perf_counter()
    index = SpaceIndex(1, face_ids, person_ids, vectors)
    build = time.perf_counter() - started
    gc.collect()
    row = {
        "index": "faiss", "size": size, "mode": index.kind, "build_s": build, "cosine": cosine,
        "mb": index.nbytes / 2**20, "rss_mb": _rss_mb() - before,
        **_time_queries(index.search, queries, sources, person_ids),
    }
    if index.approximate:
        exact = []
        for query in queries[:20]:
            started = time.perf_counter()
            index.search(query, exact=True)  # no space_id: the exhaustive scan alone, no rescoring
            exact.append(time.perf_counter() - started)
        row["exact_ms"] = float(np.median(exact) * 1e3)
    rows.append(row)
    del index
    gc.collect()

    if old is not None:
        before = _rss_mb()
        started = time.perf_counter()
        previous = old.SpaceIndex(1, person_ids, vectors)
        build = time.perf_counter() - started
        rows.append({
            "index": "numpy IVF (before)", "size": size,
            "mode": "exact" if previous.centroids is None else f"IVF {len(previous.centroids)} lists",
            "build_s": build, "cosine": cosine, "mb": previous.nbytes / 2**20,
            "rss_mb": _rss_mb() - before,
            **_time_queries(previous.search, queries, sources, person_ids),
        })
        del previous
    del vectors
    gc.collect()
    return rows


def bench_recognize() -> dict:
    """services.recognize on a 1 MP photo: decode, face analysis, version check, search."""
    from django.contrib.auth import get_user_model
    from PIL import Image

    from apps.face_registry import services
    from apps.imaging import faces
    from tests.helpers import fixtures_dir

    if faces.available():
        return {"skipped": faces.available()}
    user = get_user_model().objects.create_user("bench", "bench@example.com", "bench-pass-1")
    space = services.get_space(user, 0)
    folder = fixtures_dir() / "faces"
    services.set_face(space, 1, (folder / "obama.jpg").read_bytes(), "obama.jpg")
    services.set_face(space, 2, (folder / "biden.jpg").read_bytes(), "biden.jpg")
    image = Image.open(folder / "two_people.jpg").convert("RGB")
    scale = (1_000_000 / (image.width * image.height)) ** 0.5
    image = image.resize((round(image.width * scale), round(image.height * scale)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    data = buffer.getvalue()
    services.recognize(space, data, "warm-up", False)
    timings, cpu, tags = [], [], []
    for _ in range(5):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = services.recognize(space, data, "bench.jpg", False)
        cpu.append(time.process_time() - started_cpu)
        timings.append(time.perf_counter() - started)
        tags = sorted(face.tag for face in result.faces)
    return {
        "detector": faces.default_detector(),
        "pixels": f"{image.width}x{image.height}",
        "median_s": float(np.median(timings)),
        "min_s": float(np.min(timings)),
        "cpu_s": float(np.median(cpu)),
        "tags": tags,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--compare", default="b2dc999", help="git revision of the numpy IVF; '' for none")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    _django()
    import faiss

    from apps.face_registry import index
    from bench.run import cpu_description, publish

    old = _old_index(args.compare) if args.compare else None
    load_before = os.getloadavg()[0]
    rng = np.random.default_rng(7)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        for row in bench_search(size, rng, old):
            rows.append(row)
            print(row, file=sys.stderr, flush=True)
    e2e = bench_recognize()
    print(e2e, file=sys.stderr)

    lines = [
        "## Face index (bench/bench_faces_index.py)",
        "",
        f"CPU: {cpu_description()}; faiss {faiss.__version__}, numpy {np.__version__}; "
        f"{time.strftime('%Y-%m-%d')}; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after (the machine was shared with other developers' jobs: "
        "wall-time tails are inflated by waiting for a core, the CPU-time column is not). "
        f"Synthetic unit embeddings, one face per person; {QUERIES} queries per size, each an "
        f"enrolled face plus noise (median cosine to its source {rows[0]['cosine']:.3f}); both "
        "indexes answer the same queries in one process. faiss: flat float32 below "
        f"{index.FLAT_MAX_ROWS:,} faces, IVF with 8-bit codes above ({index.NPROBE} groups "
        "probed).",
        "",
        "| faces | index | layout | p50 ms | p95 ms | CPU p95 ms | recall@1 | build s | index MB | "
        "MB per 1M faces | RSS growth MB |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['size']:,} | {row['index']} | {row['mode']} | {row['p50_ms']:.2f} | "
            f"{row['p95_ms']:.2f} | {row['cpu_p95_ms']:.2f} | {row['recall'] * 100:.1f} % | "
            f"{row['build_s']:.1f} | {row['mb']:.0f} | {row['mb'] / row['size'] * 1e6:.0f} | "
            f"{row['rss_mb']:.0f} |"
        )
    lines.append("")
    for row in rows:
        if "exact_ms" in row:
            lines.append(
                f"- At {row['size']:,} faces the exhaustive scan of every group (run only under "
                "the space lock, before `create_new` makes a person, then rescored from the "
                f"database's float32 embeddings) takes {row['exact_ms']:.1f} ms (median)."
            )
    lines.append("")
    if "skipped" in e2e:
        lines.append(f"End-to-end recognize: skipped ({e2e['skipped']}).")
    else:
        lines.append(
            f"End-to-end `services.recognize` on a {e2e['pixels']} (1 MP) JPEG with two faces "
            f"(decode, {e2e['detector']} detection, landmarks, embeddings, sex/age, emotion, "
            f"version check, search): median {e2e['median_s']:.2f} s, best {e2e['min_s']:.2f} s "
            f"of 5, median CPU time of the process {e2e['cpu_s']:.2f} s (all its threads); found "
            f"{e2e['tags']}."
        )
    publish(lines, REPORT, write=not args.no_write)


if __name__ == "__main__":
    main()
