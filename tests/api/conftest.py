"""API fixtures: clients with credentials, inline job execution, fast stand-in operations."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from apps.accounts.models import ApiClient
from apps.imaging import operations
from apps.imaging.picture import Picture


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


def _stand_in(name: str, run) -> operations.Operation:
    """The registered operation (its parameters, its cost class) running ``run`` instead, at a
    rate of what really runs: estimates (admission, the compat wait) are of the stand-in."""
    return replace(
        operations.get(name), run=run, unavailable_reason=operations.always_available,
        rates=(operations.Rate(0.1, 1.0),),
    )


STAND_INS = {
    "improve": _stand_in(
        "improve",
        lambda p, _params, _progress: operations.Result(
            {"improved": p, "colorized_improved": p, "colored": p}, {"bw": True}
        ),
    ),
    "upscale": _stand_in(
        "upscale", lambda p, _params, _progress: operations.Result({"resolved": _twice(p)})
    ),
    "restore": _stand_in(
        "restore", lambda p, _params, _progress: operations.Result({"improved": p})
    ),
    "colorize": _stand_in(
        "colorize", lambda p, _params, _progress: operations.Result({"colored": p})
    ),
}


@pytest.fixture
def stand_ins(monkeypatch):
    """Fast stand-ins for the model-backed operations, so wire-format tests take milliseconds.

    Real models are exercised by the ``slow`` tests.
    """
    for name, operation in STAND_INS.items():
        monkeypatch.setitem(operations.REGISTRY, name, operation)


@pytest.fixture
def no_colorizer(monkeypatch):
    base = STAND_INS["colorize"]
    monkeypatch.setitem(
        operations.REGISTRY, "colorize",
        replace(base, unavailable_reason=lambda: "no colorizer model is installed"),
    )
