"""Cost classes, estimates and admission: heavy work never starves light work.

At submission every job gets

* a **cost class** — ``heavy`` when it may run a super-resolution or colorization network here
  (upscale, colorize, restore on its network path, improve when it can colorize), ``light``
  otherwise (contrast, dehaze, restore on its classical path, …). The class is also the Celery
  queue the job goes to, and each queue has its own workers, so a dehaze never waits behind an
  upscale;
* an **estimate** from the stored cost model (:class:`OperationCost`): per cost key (operation,
  the path it takes, its parameters) ``overhead + seconds per megapixel × megapixels``. Rows
  start from :data:`DEFAULTS`, are measured by ``manage.py calibrate_costs`` and follow every
  successful job's observed duration (an exponential moving average written by the worker);
* **admission**: a job whose estimate exceeds the job time limit is refused right there, with
  what would fit, instead of running for 15 minutes and failing on time. A synchronous compat
  call that could not finish within its wait (its own estimate plus the queue ahead) is answered
  at once in its protocol's terms.

Parameters are part of the key as they come (``upscale factor=2 kind=photo quality=fast``), so a
parameter an operation gains later is estimated — and learnt — without changes here.

Where a job stands in its queue, and when it should be done, is queue.py's.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from apps.common import metrics
from apps.imaging.errors import EnhancerError

from . import queue
from .models import Job, OperationCost

log = logging.getLogger(__name__)

LIGHT = Job.CostClass.LIGHT
HEAVY = Job.CostClass.HEAVY
QUEUES = (LIGHT, HEAVY)

# A network runs whole padded tiles: a 48 px photo costs it about what a 200 px one does.
MIN_MEGAPIXELS = 0.04
# Observed durations move a rate by this weight (the first few observations weigh more).
EMA_WEIGHT = 0.25
# One observation moves a rate at most this many times up or down: a first job that also
# loaded (or converted) its model must not make every later estimate absurd.
MAX_STEP = 4.0

# (operation, parameters that must match, overhead seconds, seconds per megapixel): the starting
# point of each cost key until it is calibrated or observed; the most specific match wins.
# Measured through the CLI on a 2-core EPYC (docs/benchmarks.md): contrast 0.06 s and dehaze
# 0.23 s per MP; Real-ESRGAN x4plus 63 s per input MP with OpenVINO bf16, about twice that in
# fp32 on a CPU without bf16. The network rows hold the float32 rates of such a CPU, divided by
# how much faster the network runs here (networks.known_speedup: the float arithmetic's probe
# gain — 2x on a Xeon with AMX, where x4plus itself runs 5x faster — times, for x4plus, its
# gated int8 trunk's gain over that float, timed when the graph was made: 1.5-2.3x on the
# Zen 5 EPYC), so nothing that fits is refused on either, and each machine's own jobs pull
# them further. Photo x2 and the fast tier run SPAN (3-4 s per MP in bf16). restore's network
# path is x4plus on photos of at most 0.3 MP.
# Ties go to the earlier row, so art (whatever the tier) comes before the photo rows.
DEFAULTS: list[tuple[str, dict[str, str], float, float]] = [
    ("contrast", {}, 0.2, 0.15),
    ("dehaze", {}, 0.2, 0.4),
    ("colorize", {}, 2.0, 1.0),
    ("restore", {"path": "classical"}, 0.5, 4.0),
    ("restore", {"path": "network"}, 5.0, 150.0),
    ("improve", {"path": "classical"}, 0.5, 4.0),
    ("improve", {"path": "network"}, 5.0, 150.0),
    ("improve", {"path": "classical+colorize"}, 2.5, 5.0),
    ("improve", {"path": "network+colorize"}, 7.0, 160.0),
    ("upscale", {"kind": "art", "factor": "2"}, 3.0, 90.0),
    ("upscale", {"kind": "art", "factor": "4"}, 3.0, 90.0),
    ("upscale", {}, 5.0, 150.0),
    ("upscale", {"factor": "2"}, 3.0, 10.0),
    ("upscale", {"quality": "fast"}, 3.0, 10.0),
    ("upscale", {"quality": "fast", "factor": "2"}, 3.0, 10.0),
]
FALLBACK = (2.0, 50.0)
# Parameter values worth suggesting when a job would take too long; each is offered only when
# the operation accepts it and the job would then fit.
SMALLER = {"factor": [2], "quality": ["fast"]}


@dataclass(frozen=True)
class Plan:
    """What a job will cost, decided before anything is stored."""

    operation: str
    params: dict
    cost_class: str
    key: str
    megapixels: float
    estimate_seconds: float
    width: int
    height: int


# --- classing and keys ------------------------------------------------------------------------


def _restore_path(pixels: int) -> str:
    from apps.imaging import networks, restore

    # restore decides on the network only after assessing the photo; whether it *may* use it
    # is known now, and that is what a worker slot must be reserved for.
    if pixels <= restore.network_max_pixels() and networks.missing_reason(restore.NETWORK_KEY) is None:
        return "network"
    return "classical"


def _can_colorize() -> bool:
    from apps.imaging import colorize

    return colorize.unavailable_reason() is None


def classify(operation: str, params: dict, pixels: int) -> tuple[str, dict[str, str]]:
    """(cost class, key parameters) for a job; key parameters are the params plus the path."""
    key_params = {str(name): str(value) for name, value in params.items()}
    provider = settings.ENHANCER_PROVIDERS.get(operation, "local")
    if provider != "local":
        # A cloud runs the network; the job still holds a worker slot for as long as the cloud
        # takes, which for these operations is long enough to keep it off the light queue.
        key_params["provider"] = provider
        heavy = operation in ("upscale", "colorize", "improve")
        return (HEAVY if heavy else LIGHT), key_params
    if operation == "upscale":
        _same_work_same_key(params, key_params)
    if operation in ("restore", "improve"):
        path = _restore_path(pixels)
        heavy = path == "network"
        if operation == "improve" and _can_colorize():
            # Whether the photo is black-and-white is judged by the worker; it may colorize.
            path += "+colorize"
            heavy = True
        key_params["path"] = path
        return (HEAVY if heavy else LIGHT), key_params
    return (HEAVY if operation in ("upscale", "colorize") else LIGHT), key_params


def _same_work_same_key(params: dict, key_params: dict[str, str]) -> None:
    """Tiers that run the same network (photo x2, art) share the fast tier's key: one rate,
    learnt from both, so neither is estimated slower than the other by the noise of a few
    jobs."""
    from apps.imaging import upscale

    try:
        kind, factor = params["kind"], int(params["factor"])
        routes = {tier: upscale.ROUTES[(kind, factor, tier)].network for tier in upscale.QUALITIES}
    except (KeyError, TypeError, ValueError):
        return  # not cleaned parameters: keyed as they come
    if "quality" in key_params and len(set(routes.values())) == 1:
        key_params["quality"] = "fast"


def make_key(operation: str, key_params: dict[str, str]) -> str:
    return " ".join([operation, *(f"{name}={key_params[name]}" for name in sorted(key_params))])[:200]


def parse_key(key: str) -> tuple[str, dict[str, str]]:
    operation, *pairs = key.split(" ")
    return operation, dict(pair.split("=", 1) for pair in pairs if "=" in pair)


def default_cost(operation: str, key_params: dict[str, str]) -> tuple[float, float]:
    """(overhead seconds, seconds per megapixel) from the most specific matching default; a
    network's rate follows this CPU's measured speed-up over float32."""
    best, best_size = None, -1
    for name, match, overhead, rate in DEFAULTS:
        if name == operation and all(key_params.get(k) == v for k, v in match.items()):
            if len(match) > best_size:
                best, best_size = (overhead, rate), len(match)
    if best is None:
        return FALLBACK
    speedup = _speedup(operation, key_params)
    return (best[0], best[1] / speedup) if speedup else best


def _speedup(operation: str, key_params: dict[str, str]) -> float | None:
    """How many times faster than float32 the network a cost key runs goes here
    (networks.known_speedup: x4plus may run int8, the others bf16); None where no network runs
    here."""
    from apps.imaging import networks, restore, runtimes, upscale

    if "provider" in key_params:
        return None
    if operation in ("restore", "improve"):
        network = key_params.get("path", "").startswith("network") and restore.NETWORK_KEY
    elif operation == "upscale":
        factor = key_params.get("factor", "4")
        route = upscale.ROUTES.get((key_params.get("kind", "photo"),
                                    int(factor) if factor.isdigit() else 0,
                                    key_params.get("quality", "best")))
        if route is None:  # parameters not cleaned: some network, the float choice's speed
            return runtimes.known_speedup()
        network = route.network
    else:
        return None
    return networks.known_speedup(network) if network else None


def cost_row(key: str) -> OperationCost:
    """The stored row for a key, or an unsaved one holding its defaults (reads never write)."""
    row = OperationCost.objects.filter(key=key).first()
    if row is None:
        operation, key_params = parse_key(key)
        overhead, rate = default_cost(operation, key_params)
        row = OperationCost(
            key=key, operation=operation, overhead_seconds=overhead, seconds_per_megapixel=rate
        )
    return row


def megapixels(width: int, height: int) -> float:
    return max(width * height / 1e6, MIN_MEGAPIXELS)


def plan(
    operation: str, params: dict, width: int, height: int,
    rows: dict[str, OperationCost] | None = None, weight: float = 1.0,
) -> Plan:
    """``rows``: cost rows by key, shared by the calls of one request so that photos with the
    same key read their row once. ``weight``: the photo's pixel cost relative to 8-bit RGB
    (``ImageInfo.cost_weight``: 16-bit 2, with alpha 4/3 more), so that such a photo is
    estimated, and classed, by what it really costs to decode and process."""
    cost_class, key_params = classify(operation, params, width * height)
    mp = megapixels(width, height) * weight
    if cost_class == LIGHT and mp > settings.ENHANCER_LIGHT_MAX_MEGAPIXELS:
        # A 7000x7000 16-bit RGBA photo took 3.2 GB in a light worker: a heavy slot's worth.
        cost_class = HEAVY
    key = make_key(operation, key_params)
    rows = {} if rows is None else rows
    if key not in rows:
        rows[key] = cost_row(key)
    estimate = rows[key].seconds(mp)
    return Plan(operation, dict(params), cost_class, key, mp, round(estimate, 2), width, height)


# --- admission --------------------------------------------------------------------------------


def time_limit() -> float:
    return float(settings.ENHANCER_JOB_SOFT_TIME_LIMIT)


def admit(operation: str, params: dict, images: Iterable) -> list[Plan]:
    """Plans for ``images`` (anything with ``.info.width/.height``); refuses what cannot finish.

    ``params`` must already be cleaned (``services.validate_operation``).
    """
    answers = admit_each(operation, params, images)
    for answer in answers:
        if isinstance(answer, EnhancerError):
            raise answer
    return answers


def admit_each(operation: str, params: dict, images: Iterable) -> list[Plan | EnhancerError]:
    """Per image, its plan or the refusal (too slow for the time limit): one photo too big for
    the limit need not stop the others of a batch."""
    rows: dict[str, OperationCost] = {}
    limit = time_limit()
    answers: list[Plan | EnhancerError] = []
    for image in images:
        job_plan = plan(operation, params, image.info.width, image.info.height, rows,
                        getattr(image.info, "cost_weight", 1.0))
        if job_plan.estimate_seconds > limit:
            refusal = EnhancerError(EnhancerError.OVER_TIME_LIMIT, _too_slow_message(job_plan, limit))
            metrics.refused(refusal.code)
            answers.append(refusal)
        else:
            answers.append(job_plan)
    return answers


def _too_slow_message(job_plan: Plan, limit: float) -> str:
    what = job_plan.operation + "".join(f" {k}={v}" for k, v in sorted(job_plan.params.items()))
    text = (
        f"{what} on this {job_plan.width}×{job_plan.height} photo would take "
        f"{humanize(job_plan.estimate_seconds)} here, and jobs are stopped after "
        f"{humanize(limit, about=False)}."
    )
    fits = _what_fits(job_plan, limit)
    return f"{text} What would fit: {'; or '.join(fits)}." if fits else text


def _what_fits(job_plan: Plan, limit: float) -> list[str]:
    from apps.imaging import operations

    fits = []
    row = cost_row(job_plan.key)
    if row.seconds_per_megapixel > 0 and limit > row.overhead_seconds:
        pixels = (limit - row.overhead_seconds) / row.seconds_per_megapixel * 1e6
        if pixels >= MIN_MEGAPIXELS * 1e6:
            aspect = job_plan.width / job_plan.height
            width = int(math.sqrt(pixels * aspect))
            height = int(pixels / max(width, 1))
            fits.append(
                f"a smaller photo, at most {pixels / 1e6:.2f} megapixels "
                f"(about {width}×{height} at this shape)"
            )
    try:
        operation = operations.get(job_plan.operation)
    except EnhancerError:
        return fits
    for name, values in SMALLER.items():
        for value in values:
            if job_plan.params.get(name) == value:
                continue
            try:
                candidate = operation.clean_params({**job_plan.params, name: value})
            except EnhancerError:
                continue  # this operation does not take that parameter (yet)
            other = plan(job_plan.operation, candidate, job_plan.width, job_plan.height)
            if other.estimate_seconds <= limit:
                fits.append(f"{name} {value} at this size ({humanize(other.estimate_seconds)})")
    return fits


def check_wait(plans: list[Plan], wait: float) -> None:
    """Refuse (temporarily) jobs a synchronous call could not see finish within ``wait`` s.

    Each class's queue ahead (queued estimates plus what the running jobs have left, shared by
    that queue's workers) comes first, then these jobs themselves.
    """
    backlog = queue.Backlog()
    worst = 0.0
    for cost_class in {p.cost_class for p in plans}:
        mine = [p.estimate_seconds for p in plans if p.cost_class == cost_class]
        workers = queue.concurrency(cost_class)
        finish = backlog.seconds(cost_class) / workers + max(max(mine), sum(mine) / workers)
        worst = max(worst, finish)
    if worst > wait:
        refusal = EnhancerError(
            EnhancerError.WAIT_TIMEOUT,
            f"timeout: this would finish in {humanize(worst)} (with the queue ahead), after the "
            f"{wait:.0f} s this call waits; try again later, send a smaller photo, or use the "
            "asynchronous /api/jobs/ endpoint.",
            temporary=True,
        )
        metrics.refused(refusal.code)
        raise refusal


def humanize(seconds: float, about: bool = True) -> str:
    prefix = "about " if about else ""
    if seconds < 10:
        return "a few seconds" if about else f"{seconds:.0f} s"
    if seconds < 90:
        return f"{prefix}{round(seconds / 5) * 5:.0f} s"
    if seconds < 90 * 60:
        return f"{prefix}{round(seconds / 60):.0f} min"
    return f"{prefix}{seconds / 3600:.1f} h"


# --- learning ---------------------------------------------------------------------------------


def observe(job_id: int) -> OperationCost | None:
    """Fold a succeeded job's duration into its cost key's rate (a moving average)."""
    job = Job.objects.filter(id=job_id, status=Job.Status.SUCCEEDED).first()
    if job is None or not job.cost_key or job.duration is None:
        return None
    operation, key_params = parse_key(job.cost_key)
    overhead, rate = default_cost(operation, key_params)
    with transaction.atomic():
        OperationCost.objects.get_or_create(
            key=job.cost_key,
            defaults={"operation": operation, "overhead_seconds": overhead,
                      "seconds_per_megapixel": rate},
        )
        row = OperationCost.objects.select_for_update().get(key=job.cost_key)
        mp = megapixels(job.input_width, job.input_height)
        observed = max(job.duration - row.overhead_seconds, 0.0) / mp
        current = row.seconds_per_megapixel
        if current > 0:
            observed = min(max(observed, current / MAX_STEP), current * MAX_STEP)
        weight = max(EMA_WEIGHT, 1.0 / (row.samples + 1))
        row.seconds_per_megapixel = current + weight * (observed - current)
        row.samples += 1
        row.source = OperationCost.Source.OBSERVED
        row.save(update_fields=["seconds_per_megapixel", "samples", "source", "updated_at"])
    return row


def observe_finished(sender, job_id: int, **kwargs) -> None:
    """Receives ``signals.job_finished`` (connected in ``UploadsConfig.ready``)."""
    try:
        observe(job_id)
    except Exception:  # the job is done either way; a missed sample only costs accuracy
        log.exception("could not record the duration of job %s", job_id)


def record_calibration(key: str, overhead: float, rate: float) -> OperationCost:
    operation, _ = parse_key(key)
    row, _ = OperationCost.objects.update_or_create(
        key=key,
        defaults={"operation": operation, "overhead_seconds": overhead,
                  "seconds_per_megapixel": rate, "source": OperationCost.Source.CALIBRATED,
                  "samples": 1},
    )
    return row

