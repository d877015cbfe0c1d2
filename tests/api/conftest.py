"""API fixtures: clients with credentials, inline job execution, fast stand-in operations."""

from __future__ import annotations

import numpy as np
import pytest

from apps.accounts.models import ApiClient
from apps.imaging import operations
from apps.imaging.errors import EnhancerError
from apps.imaging.picture import Picture
from apps.uploads import costs


@pytest.fixture(autouse=True)
def fresh_face_index():
    """The face index caches per space id; a rolled-back test may hand the next one its id."""
    from apps.face_registry import index

    index.forget()
    yield
    index.forget()


@pytest.fixture
def face(fixture_path):
    """``face("obama.jpg")`` → the bytes of a face photo; skips when face analysis is unavailable."""
    from apps.imaging import faces

    reason = faces.available()
    if reason:
        pytest.skip(f"face analysis unavailable: {reason}")
    return lambda name: fixture_path(f"faces/{name}").read_bytes()


@pytest.fixture
def issued(alice):
    """Alice's API client and its plain secrets."""
    client, secrets = ApiClient.issue(alice, "alice-app", daily_quota=0, rate_limit_per_minute=0)
    return client, secrets


@pytest.fixture
def secrets(issued):
    return issued[1]


@pytest.fixture
def bob_secrets(bob):
    return ApiClient.issue(bob, "bob-app", daily_quota=0, rate_limit_per_minute=0)[1]


@pytest.fixture
def inline_jobs(transactional_db, settings):
    """Jobs run in the request's own thread as soon as their row commits.

    transactional_db, because the synchronous endpoints wait for a job that is only enqueued
    on commit; eager Celery, so ``delay`` runs the task right there.
    """
    from enhancer_site.celery import app

    settings.ENHANCER_COMPAT_WAIT_SECONDS = 30
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def _twice(picture: Picture) -> Picture:
    rgb = np.repeat(np.repeat(picture.rgb, 2, axis=0), 2, axis=1)
    return Picture(rgb, None, picture.bit_depth, picture.format)


def _upscale_params(params: dict) -> dict:
    factor, kind = params.get("factor", 2), params.get("kind", "photo")
    if factor not in (2, 4) or kind not in ("photo", "art"):
        raise EnhancerError(EnhancerError.BAD_PARAMS, "factor must be 2 or 4, kind photo or art")
    return {"factor": factor, "kind": kind}


STAND_INS = {
    "improve": operations.Operation(
        "improve", "Improve",
        lambda p, _params, _progress: operations.Result(
            {"improved": p, "colorized_improved": p, "colored": p}, {"bw": True}
        ),
        outputs=("improved", "colorized_improved", "colored"),
    ),
    "upscale": operations.Operation(
        "upscale", "Upscale",
        lambda p, _params, _progress: operations.Result({"resolved": _twice(p)}),
        clean_params=_upscale_params, outputs=("resolved",),
    ),
    "restore": operations.Operation(
        "restore", "Restore", lambda p, _params, _progress: operations.Result({"improved": p}),
        outputs=("improved",),
    ),
    "colorize": operations.Operation(
        "colorize", "Colorize", lambda p, _params, _progress: operations.Result({"colored": p}),
        outputs=("colored",),
    ),
}


@pytest.fixture
def stand_ins(monkeypatch):
    """Fast stand-ins for the model-backed operations, so wire-format tests take milliseconds.

    Real models are exercised by the ``slow`` tests.
    """
    for name, operation in STAND_INS.items():
        monkeypatch.setitem(operations.REGISTRY, name, operation)
    # Their cost model too: estimates (admission, the compat wait) are of what really runs.
    monkeypatch.setattr(
        costs, "DEFAULTS",
        [row for row in costs.DEFAULTS if row[0] not in STAND_INS]
        + [(name, {}, 0.1, 1.0) for name in STAND_INS],
    )


@pytest.fixture
def no_colorizer(monkeypatch):
    base = STAND_INS["colorize"]
    monkeypatch.setitem(
        operations.REGISTRY, "colorize",
        operations.Operation(base.name, base.label, base.run, outputs=base.outputs,
                             unavailable_reason=lambda: "no colorizer model is installed"),
    )
