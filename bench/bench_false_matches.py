"""False matches at scale: known people among 100,000 distractor identities.

Real faces: every face of the fixtures — Obama (obama.jpg, obama2.jpg, obama_partial_face.jpg,
two_people.jpg), Biden (biden.jpg, two_people.jpg), five children (alpha_children.png) and two
people (gray_00017.png): 9 identities — each photo also as 11 augmented copies (scale, JPEG,
brightness, rotation: bench/measure_face_threshold.py's variants).

Distractors: no package ships a public-domain set of thousands of faces, so the 100,000
distractor identities are generated in embedding space and checked against the real faces. Each
is ``normalise(m + s · z)``: ``m`` the mean of the 9 real identities' unit embeddings, ``z``
isotropic Gaussian noise, ``s`` chosen by bisection so that the
cosines between distractors and real identities have the same median as the cosines between
different real identities. The report prints both distributions' quantiles side by side: the
check that the generated strangers are as close to real people as real strangers are.

Test: for each of two splits, half the identities are enrolled (one original photo each) with
the 100,000 distractors; then every other photo (and augmented copy) of the enrolled people is
recognized (a miss: not matched to its person) and every photo of the people not enrolled
(a false match: matched to anyone). Searched with the faiss index the registry uses, at the
shipped threshold and with services.match_threshold(space size).

Writes docs/benchmarks/false_matches.md.
Usage:  .venv/bin/python bench/bench_false_matches.py [--distractors 100000]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "benchmarks" / "false_matches.md"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ENHANCER_MODEL_DIR", str(ROOT / "var" / "models"))

from bench.bench_faces_index import _django  # noqa: E402
from bench.measure_face_threshold import variants  # noqa: E402
from bench.run import cpu_description, publish  # noqa: E402

PHOTOS = {
    "faces/obama.jpg": ["obama"],
    "faces/obama2.jpg": ["obama"],
    "faces/obama_partial_face.jpg": ["obama"],
    "faces/biden.jpg": ["biden"],
    "faces/two_people.jpg": None,  # labelled by the nearest single-person original
    "photos/alpha_children.png": ["child1", "child2", "child3", "child4", "child5"],
    "photos/gray_00017.png": ["grey1", "grey2"],
}
ENROLLED_FROM = {"obama": "faces/obama.jpg", "biden": "faces/biden.jpg"}  # others: their photo
CHILDREN = {"child1", "child2", "child3", "child4", "child5"}
SPLITS = (
    {"obama", "child1", "child2", "child3", "grey1"},
    {"biden", "child4", "child5", "grey2"},
)


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def real_faces() -> list[tuple[str, str, str, np.ndarray]]:
    """(photo, variant, identity, unit embedding) of every fixture face and augmented copy."""
    from apps.imaging import codec, faces
    from tests.helpers import fixtures_dir

    samples: list[tuple[str, str, str, np.ndarray]] = []
    originals: dict[str, np.ndarray] = {}
    for photo, people in PHOTOS.items():
        # As RGB, so every augmentation applies to the grey and RGBA fixtures too.
        buffer = io.BytesIO()
        Image.open(fixtures_dir() / photo).convert("RGB").save(buffer, "PNG")
        for variant, payload in variants(buffer.getvalue()).items():
            found = faces.analyze(codec.decode(payload))
            expected = 2 if people is None else len(people)
            if len(found) != expected:
                print(f"{photo} / {variant}: {len(found)} faces, {expected} expected: skipped",
                      file=sys.stderr)
                continue
            # Several people in one photo: identities by left-to-right position.
            found.sort(key=lambda face: face.box[0])
            if people is not None and len(people) > 1 and variant == "original":
                for name, face in zip(people, found, strict=True):
                    originals[name] = _unit(face.embedding)
            for face in found:
                vector = _unit(face.embedding)
                if people is None or len(people) > 1:
                    pool = originals if people is None else {
                        name: originals[name] for name in people if name in originals
                    }
                    name = max(pool, key=lambda n, v=vector: float(pool[n] @ v))
                else:
                    name = people[0]
                    if variant == "original" and name not in originals:
                        originals[name] = vector
                samples.append((photo, variant, name, vector))
        print(f"{photo}: analysed", file=sys.stderr, flush=True)
    return samples


def identity_means(samples) -> dict[str, np.ndarray]:
    names = sorted({name for _, _, name, _ in samples})
    return {name: _unit(np.mean([v for _, _, n, v in samples if n == name], axis=0)) for name in names}


def real_impostor_cosines(samples, adults_only: bool = False) -> np.ndarray:
    """Cosines of every pair of faces of different real people (no child–child pair when
    ``adults_only``)."""
    vectors = np.stack([v for *_, v in samples])
    labels = np.array([n for _, _, n, _ in samples])
    cosines = vectors @ vectors.T
    different = labels[:, None] != labels[None, :]
    if adults_only:
        child = np.isin(labels, sorted(CHILDREN))
        different &= ~(child[:, None] & child[None, :])
    return cosines[np.triu(different, 1)]


def generate(count: int, means: dict[str, np.ndarray], target_median: float, seed: int = 0):
    """``count`` distractor embeddings whose cosine to real identities has ``target_median``."""
    rng = np.random.default_rng(seed)
    centres = np.stack(list(means.values()))
    mean = centres.mean(axis=0)
    # Isotropic noise: a 2-parameter family (mean direction, one noise scale) whose cosines to
    # real faces come out as narrow as real strangers' once the median is matched. Noise shaped
    # by the 9 identities' covariance came out twice as wide (p10–p90 0.70–0.89 against real
    # 0.80–0.91), putting far too many distractors close to everyone.
    noise = rng.standard_normal((count, 128))

    def median_cosine(scale: float) -> float:
        sample = _unit(mean + scale * noise[:5000])
        return float(np.median(sample @ centres.T))

    low, high = 0.01, 50.0  # more noise → less similar to real people
    for _ in range(50):
        middle = (low * high) ** 0.5
        if median_cosine(middle) > target_median:
            low = middle
        else:
            high = middle
    scale = (low * high) ** 0.5
    return _unit(mean + scale * noise), scale


def quantiles(values: np.ndarray) -> list[float]:
    return [float(np.quantile(values, q)) for q in (0.01, 0.1, 0.5, 0.9, 0.99)] + [float(values.max())]


def run_split(enrolled: set[str], samples, distractors: np.ndarray) -> list[tuple[str, str, int, float, bool]]:
    """(identity, role, best person, its similarity, best is the own person) for each query."""
    from apps.face_registry.index import SpaceIndex

    people = sorted(enrolled)
    enrolled_photo = {
        name: ENROLLED_FROM.get(name, next(p for p, _, n, _ in samples if n == name))
        for name in people
    }
    vectors = [
        next(v for p, var, n, v in samples if n == name and p == enrolled_photo[name] and var == "original")
        for name in people
    ]
    count = len(distractors)
    person_ids = np.concatenate([np.arange(1000, 1000 + count), np.arange(1, len(people) + 1)])
    index = SpaceIndex(1, np.arange(1, count + len(people) + 1), person_ids,
                       np.concatenate([distractors, np.stack(vectors)]))
    person_of = {name: number for number, name in enumerate(people, start=1)}
    queries = []
    for photo, variant, name, vector in samples:
        if name in enrolled and photo == enrolled_photo[name] and variant == "original":
            continue  # the enrolled face itself
        (top,) = index.search(vector, limit=1, exact=True)
        role = "known" if name in enrolled else "stranger"
        queries.append((name, role, top.person_id, top.similarity, top.person_id == person_of.get(name)))
    return queries


def outcome(queries, threshold: float) -> dict:
    known = [q for q in queries if q[1] == "known"]
    strangers = [q for q in queries if q[1] == "stranger"]
    return {
        "known": len(known),
        # A known person's photo is missed unless its best match is the person, above threshold.
        "missed": sum(not (own and sim >= threshold) for _, _, _, sim, own in known),
        "wrong": sum((not own) and sim >= threshold for _, _, _, sim, own in known),
        "strangers": len(strangers),
        "false": sum(sim >= threshold for _, _, _, sim, _ in strangers),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--distractors", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    _django()
    from apps.face_registry import services

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    samples = real_faces()
    analysed = time.perf_counter() - started
    means = identity_means(samples)
    impostors = real_impostor_cosines(samples)
    distractors, scale = generate(args.distractors, means, float(np.median(impostors)))
    centres = np.stack(list(means.values()))
    generated_to_real = (distractors[:20000] @ centres.T).ravel()
    real_vectors = np.stack([v for *_, v in samples])
    generated_to_faces = (distractors[:2000] @ real_vectors.T).ravel()
    among = distractors[:3000] @ distractors[:3000].T
    generated_pairs = among[np.triu_indices(3000, 1)]

    shipped = services.MATCH_SIMILARITY
    sizes = [size for size in (1_000, 10_000, 100_000) if size <= args.distractors]
    results = []  # (size, group, queries)
    for size in sizes:
        for split in SPLITS:
            queries = run_split(split, samples, distractors[:size])
            for group, keep in (("all", lambda name: True), ("adults", lambda name: name not in CHILDREN)):
                results.append((size, group, [q for q in queries if keep(q[0])]))
        print(f"{size:,} distractors searched", file=sys.stderr, flush=True)

    def qrow(label: str, values: np.ndarray) -> str:
        return f"| {label} | {len(values):,} | " + " | ".join(f"{v:.3f}" for v in quantiles(values)) + " |"

    lines = [
        "## False matches at scale (bench/bench_false_matches.py)",
        "",
        f"CPU: {cpu_description()}; load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after (shared machine). {len(samples)} real faces of "
        f"{len(means)} identities (fixtures + 11 augmented copies each; analysis {analysed:.0f} s); "
        f"{args.distractors:,} generated distractor identities (noise scale {scale:.3f}).",
        "",
        "Do the generated strangers look like real strangers to the embedding? Cosine quantiles:",
        "",
        "| pairs | count | p1 | p10 | median | p90 | p99 | max |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        qrow("real face vs real face of another person", impostors),
        qrow("the same without child–child pairs", real_impostor_cosines(samples, adults_only=True)),
        qrow("generated vs real identity (mean embedding)", generated_to_real),
        qrow("generated vs real face", generated_to_faces),
        qrow("generated vs generated", generated_pairs),
        "",
        "Recognition with the distractors enrolled, both splits together (exact search, so the "
        "index's own recall is not part of these numbers; bench_faces_index.py measures that). "
        "\"adults\": queries of the children left out (see below). A known person's photo is "
        "missed unless its best match is that person at or above the threshold; a stranger's "
        "photo is a false match when anyone reaches the threshold. \"zero-false threshold\": "
        "just above the best stranger similarity seen.",
        "",
        "| distractors | queries | threshold | known photos | missed | matched to another "
        "person | stranger photos | false matches |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    by_size: dict[tuple[int, str], list] = {}
    for size, group, queries in results:
        by_size.setdefault((size, group), []).extend(queries)
    for (size, group), queries in by_size.items():
        best_stranger = max((q[3] for q in queries if q[1] == "stranger"), default=0.0)
        for label, threshold in (
            (f"shipped {shipped:.2f}", shipped),
            (f"match_threshold = {services.match_threshold(size):.3f}", services.match_threshold(size)),
            (f"zero-false {best_stranger + 0.001:.3f}", best_stranger + 0.001),
        ):
            result = outcome(queries, threshold)
            lines.append(
                f"| {size:,} | {group} | {label} | {result['known']} | {result['missed']} | "
                f"{result['wrong']} | {result['strangers']} | {result['false']} |"
            )
    children = [n for n in means if n in CHILDREN]
    child_pairs = [float(means[a] @ means[b]) for i, a in enumerate(children) for b in children[i + 1:]]
    adults = [n for n in means if n not in CHILDREN]
    adult_pairs = [float(means[a] @ means[b]) for i, a in enumerate(adults) for b in adults[i + 1:]]
    lines += [
        "",
        f"Different children of alpha_children.png score {min(child_pairs):.3f}–{max(child_pairs):.3f} "
        f"with each other (mean embeddings), different adults {min(adult_pairs):.3f}–"
        f"{max(adult_pairs):.3f}: dlib's ResNet, trained on adults, barely tells these children apart.",
    ]
    publish(lines, REPORT, write=not args.no_write)


if __name__ == "__main__":
    main()
