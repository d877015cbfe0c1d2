"""The layers of docs/architecture.md, checked on the source: imports only ever point down."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import ROOT

APPS = ("imaging", "common", "providers", "accounts", "uploads", "face_registry", "history", "api",
        "monitoring")

# What each part may import from the others (itself always); the engine not even Django.
ALLOWED = {
    "imaging": set(),
    "common": {"imaging"},
    "providers": {"imaging", "common"},
    "accounts": {"imaging", "common"},
    "uploads": {"imaging", "common", "providers", "accounts"},
    "face_registry": {"imaging", "common", "providers", "accounts", "uploads"},
    "history": {"imaging", "common", "providers", "accounts", "uploads"},
    "api": {"imaging", "common", "providers", "accounts", "uploads", "face_registry"},
    # Watches and steers jobs; the others count through common.metrics and know nothing of it.
    "monitoring": {"imaging", "common", "providers", "accounts", "uploads"},
}


def _imported_modules(path: Path) -> set[str]:
    """Absolute names of everything a module imports, ``from apps import x`` as ``apps.x``."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            if node.module == "apps":
                names.update(f"apps.{alias.name}" for alias in node.names)
    return names


def _sources(app: str):
    for path in sorted((ROOT / "apps" / app).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


@pytest.mark.parametrize("app", APPS)
def test_imports_point_down(app):
    wrong = []
    for path in _sources(app):
        for name in _imported_modules(path):
            parts = name.split(".")
            if parts[0] == "django" and app == "imaging":
                wrong.append(f"{path.relative_to(ROOT)}: {name} (the engine stays free of Django)")
            elif parts[0] == "apps" and len(parts) > 1 and parts[1] != app:
                if parts[1] not in ALLOWED[app]:
                    wrong.append(f"{path.relative_to(ROOT)}: {name}")
    assert not wrong, "imports that point up or sideways:\n" + "\n".join(wrong)


def test_every_app_has_a_place():
    present = {path.parent.name for path in (ROOT / "apps").glob("*/__init__.py")}
    assert present == set(APPS), "add the new app to the layers here and in docs/architecture.md"
