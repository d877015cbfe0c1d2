from __future__ import annotations

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english_afterwards():
    """LocaleMiddleware leaves the last request's language active in this thread; tests after a
    Russian or Chinese page must start in English again."""
    yield
    translation.activate("en")
