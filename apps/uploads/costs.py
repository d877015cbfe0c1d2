"""Cost classes, estimates and admission: heavy work never starves light work.

At submission every job gets

* a **cost class** — ``heavy`` when it may run a super-resolution or colorization network here
  (upscale, colorize, restore on its network path, improve when it can colorize), ``light``
  otherwise (contrast, dehaze, restore on its classical path, …), as each operation's declared
  ``work`` says. The class is also the Celery queue the job goes to, and each queue has its own
  workers, so a dehaze never waits behind an upscale;
* an **estimate** from the stored cost model (:class:`OperationCost`): per cost key (operation,
  the path it takes, its parameters) ``overhead + seconds per megapixel × megapixels``. Rows
  start from the operation's declared ``rates``, are measured by ``manage.py calibrate_costs``
  and follow every successful job's observed duration (an exponential moving average written by
  the worker);
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
from apps.imaging import operations
from apps.imaging.errors import EnhancerError, gettext_noop

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

# The starting point of a cost key no operation declares a rate for.
FALLBACK = (2.0, 50.0)


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


def classify(operation: str, params: dict, pixels: int) -> tuple[str, dict[str, str]]:
    """(cost class, key parameters) for a job, from the operation's declaration (its ``work``
    here, ``heavy_in_cloud`` elsewhere); key parameters are the params plus what the work adds
    (the path it may take)."""
    key_params = {str(name): str(value) for name, value in params.items()}
    declared = operations.REGISTRY.get(operation)
    provider = settings.ENHANCER_PROVIDERS.get(operation, "local")
    if provider != "local":
        key_params["provider"] = provider
        return (HEAVY if declared and declared.heavy_in_cloud else LIGHT), key_params
    work = declared.work(params, pixels) if declared else operations.Work()
    key_params.update(work.key)
    return (HEAVY if work.heavy else LIGHT), key_params


def make_key(operation: str, key_params: dict[str, str]) -> str:
    return " ".join([operation, *(f"{name}={key_params[name]}" for name in sorted(key_params))])[:200]


def parse_key(key: str) -> tuple[str, dict[str, str]]:
    operation, *pairs = key.split(" ")
    return operation, dict(pair.split("=", 1) for pair in pairs if "=" in pair)


def default_cost(operation: str, key_params: dict[str, str]) -> tuple[float, float]:
    """(overhead seconds, seconds per megapixel) from the operation's most specific matching
    rate; a network's rate follows how fast it measured here against its declared float32 one."""
    declared = operations.REGISTRY.get(operation)
    best = None
    for rate in declared.rates if declared else ():
        if all(key_params.get(k) == v for k, v in rate.when.items()):
            if best is None or len(rate.when) > len(best.when):
                best = rate
    if best is None:
        return FALLBACK
    if best.network and "provider" not in key_params:
        return best.overhead, best.per_megapixel / _speedup(best.network)
    return best.overhead, best.per_megapixel


def _speedup(network: str) -> float:
    """How many times faster than its declared float32 rate ``network`` runs here (x4plus as
    its race on this CPU timed it, the others by the probe's float gain)."""
    from apps.imaging import networks

    return networks.known_speedup(network)


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
            refusal = _too_slow(job_plan, limit)
            metrics.refused(refusal.code)
            answers.append(refusal)
        else:
            answers.append(job_plan)
    return answers


def _too_slow(job_plan: Plan, limit: float) -> EnhancerError:
    """The refusal, saying what would fit. Durations and parameters also go as numbers and a
    dict (``_seconds``, ``_params``), which pages word in their language (error_text.py)."""
    chosen = dict(sorted(job_plan.params.items()))
    params = {
        "operation": job_plan.operation,
        "settings": "".join(f" {k}={v}" for k, v in chosen.items()),
        "settings_params": chosen,
        "width": job_plan.width,
        "height": job_plan.height,
        "estimate": humanize(job_plan.estimate_seconds),
        "estimate_seconds": job_plan.estimate_seconds,
        "limit": humanize(limit, about=False),
        "limit_exact_seconds": limit,
    }
    fits = _what_fits(job_plan, limit)
    if not fits:
        return EnhancerError(
            EnhancerError.OVER_TIME_LIMIT,
            gettext_noop(
                "%(operation)s%(settings)s on this %(width)s×%(height)s photo would take "
                "%(estimate)s here, and jobs are stopped after %(limit)s."
            ),
            params,
        )
    params["fits"] = "; or ".join(template % values for template, values in fits)
    params["fits_messages"] = [[template, values] for template, values in fits]
    return EnhancerError(
        EnhancerError.OVER_TIME_LIMIT,
        gettext_noop(
            "%(operation)s%(settings)s on this %(width)s×%(height)s photo would take "
            "%(estimate)s here, and jobs are stopped after %(limit)s. What would fit: %(fits)s."
        ),
        params,
    )


def _what_fits(job_plan: Plan, limit: float) -> list[tuple[str, dict]]:
    """Each suggestion as a template and its parameters."""
    fits = []
    row = cost_row(job_plan.key)
    if row.seconds_per_megapixel > 0 and limit > row.overhead_seconds:
        pixels = (limit - row.overhead_seconds) / row.seconds_per_megapixel * 1e6
        if pixels >= MIN_MEGAPIXELS * 1e6:
            aspect = job_plan.width / job_plan.height
            width = int(math.sqrt(pixels * aspect))
            height = int(pixels / max(width, 1))
            fits.append((
                gettext_noop(
                    "a smaller photo, at most %(megapixels)s megapixels "
                    "(about %(width)s×%(height)s at this shape)"
                ),
                {"megapixels": f"{pixels / 1e6:.2f}", "width": width, "height": height},
            ))
    try:
        operation = operations.get(job_plan.operation)
    except EnhancerError:
        return fits
    # Each cheaper value the operation declares, offered when the job would then fit.
    for param in operation.params:
        for value in param.cheaper:
            if job_plan.params.get(param.name) == value:
                continue
            try:
                candidate = operation.clean_params({**job_plan.params, param.name: value})
            except EnhancerError:
                continue  # the operation's own check refuses this combination
            other = plan(job_plan.operation, candidate, job_plan.width, job_plan.height)
            if other.estimate_seconds <= limit:
                seconds = other.estimate_seconds
                fits.append((
                    gettext_noop("%(option)s at this size (%(estimate)s)"),
                    {"option": f"{param.name} {value}", "option_job": [job_plan.operation, candidate],
                     "estimate": humanize(seconds), "estimate_seconds": seconds},
                ))
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
            gettext_noop(
                "timeout: this would finish in %(estimate)s (with the queue ahead), after the "
                "%(wait)s s this call waits; try again later, send a smaller photo, or use the "
                "asynchronous /api/jobs/ endpoint."
            ),
            {"estimate": humanize(worst), "estimate_seconds": worst, "wait": f"{wait:.0f}"},
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

