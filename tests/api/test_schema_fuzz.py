"""Schemathesis against /api/schema/: generated requests find no 5xx and no schema violations.

Bounded: a few examples per operation and a deadline-free, shrink-free run, so it takes seconds.
"""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
)


@pytest.fixture
def api_schema(db):
    from django.core import signals
    from django.db import close_old_connections

    from enhancer_site.wsgi import application

    # As Django's test client does: a request must not close the test's open transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(db, alice):
    from apps.accounts.models import ApiClient

    return ApiClient.issue(alice, "fuzz", daily_quota=0, rate_limit_per_minute=0)[1]["token"]


@pytest.mark.timeout(180)
def test_the_api_answers_within_its_schema(api_schema, token):
    # Driven by hand rather than by schemathesis' pytest plugin, which does not load under
    # this pytest version.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 5
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case):
            case.call_and_validate(
                headers={"Authorization": f"Token {token}"},
                checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
            )

        check()


@pytest.mark.timeout(180)
@pytest.mark.parametrize("credentials", ["token", "none", "revoked"])
def test_invalid_requests_get_a_problem_never_a_server_error(api_schema, token, credentials, alice):
    """Negative generation: wrong types, out-of-range values, missing required fields, broken
    bodies — with a valid token, without one, and with a revoked one."""
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode

    from apps.accounts.models import ApiClient

    headers = {}
    if credentials == "token":
        headers = {"Authorization": f"Token {token}"}
    elif credentials == "revoked":
        client, secrets = ApiClient.issue(alice, "revoked", daily_quota=0, rate_limit_per_minute=0)
        client.delete()
        headers = {"Authorization": f"Token {secrets['token']}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        @settings(
            max_examples=5,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case):
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.method, case.path, response.text[:500])
            # A generated id that the URL patterns cannot route (a "/" or "." in it) meets
            # Django's own 404 before any API code; every other refusal is problem JSON.
            if response.status_code >= 400 and response.status_code != 404:
                received = {name.lower(): value for name, value in response.headers.items()}
                content_type = received.get("content-type", [""])
                content_type = content_type[0] if isinstance(content_type, list) else content_type
                assert content_type.startswith("application/problem+json"), (
                    case.method, case.path, response.status_code, response.text[:300])

        try:
            check()
        except Unsatisfiable:
            continue  # nothing in this operation's schema can be made invalid
