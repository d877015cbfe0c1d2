"""The API docs pages work offline: their scripts come from this site, never from a CDN."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_docs_page_loads_its_assets_from_this_site(alice_client):
    response = alice_client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("static/drf_spectacular_sidecar" in source for source in sources), sources
    assert not [source for source in sources if source.startswith(("http://", "https://", "//"))]
