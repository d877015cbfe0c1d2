"""What the three cloud-compatible surfaces share: submit jobs and wait for them, bounded."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings

from apps.accounts.models import ApiClient
from apps.common import metrics
from apps.imaging.errors import EnhancerError
from apps.uploads import costs, services
from apps.uploads.models import Job


@dataclass
class Outcome:
    """A finished (or still running) job, seen from a synchronous endpoint."""

    job: Job

    @property
    def succeeded(self) -> bool:
        return self.job.status == Job.Status.SUCCEEDED

    @property
    def timed_out(self) -> bool:
        return not self.job.is_finished

    @property
    def temporary(self) -> bool:
        # A timeout or a retryable failure: asking again later may work.
        return self.timed_out or self.job.error_code in (EnhancerError.TEMPORARY, EnhancerError.TIMEOUT)

    def output(self, kind: str) -> bytes | None:
        found = next((o for o in self.job.outputs.all() if o.kind == kind), None)
        if found is None:
            return None
        with found.file.open("rb") as handle:
            return handle.read()


def wait_seconds() -> float:
    return float(settings.ENHANCER_COMPAT_WAIT_SECONDS)


def wait_all(jobs: list[Job], timeout: float | None = None) -> list[Outcome]:
    """Wait for every job under one shared deadline; jobs still running stay in history."""
    deadline = time.monotonic() + (wait_seconds() if timeout is None else timeout)
    outcomes = []
    for job in jobs:
        job = services.wait_for(job, max(0.0, deadline - time.monotonic()))
        if not job.is_finished:
            metrics.compat_timeout(job.source)
        outcomes.append(Outcome(job))
    return outcomes


def prepare(
    operation: str, params: dict, images: list[services.ValidatedImage]
) -> list[costs.Plan]:
    """Every refusal a synchronous call can get before anything is stored: bad parameters, an
    estimate over the job time limit (``over_time_limit``), or jobs that could not finish within
    this call's wait, queue ahead included (``wait_timeout``, temporary) — answered at once
    instead of holding a web worker for the whole wait. Returns the images' plans."""
    plans = costs.admit(operation, services.validate_operation(operation, params), images)
    costs.check_wait(plans, wait_seconds())
    return plans


def submit(
    client: ApiClient,
    source: str,
    images: list[services.ValidatedImage],
    operation: str,
    params: dict,
    plans: list[costs.Plan] | None = None,
) -> list[Job]:
    """Store and queue the jobs; ``plans`` when the caller already ran :func:`prepare` on them
    (the queue it measured has since grown by the caller's own other jobs)."""
    if plans is None:
        plans = prepare(operation, params, images)
    return services.create_jobs(client.owner, images, source=source, api_client=client, plans=plans)
