"""Security tests reuse the API fixtures: clients with credentials, inline jobs, stand-ins."""

from tests.api.conftest import (  # noqa: F401  (fixtures, found by pytest through this import)
    bob_secrets,
    face,
    fresh_face_index,
    inline_jobs,
    issued,
    secrets,
    stand_ins,
)
