"""The layers of docs/architecture.md, checked on the source: imports only ever point down, and
no module of apps/ reaches itself again through its imports (no circles)."""

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


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_graph() -> dict[str, set[str]]:
    """Each module of apps/ and the modules of apps/ it imports, anywhere in its body
    (an import inside a function is a circle put off to run time, not a way out of one)."""
    paths = {
        _module_name(path): path
        for path in sorted((ROOT / "apps").rglob("*.py"))
        if "migrations" not in path.parts
    }

    def known(name: str) -> str | None:
        # ``from apps.uploads.models import Job`` names a module's attribute: its module counts.
        while name and name not in paths:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(known(alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(parent + ([node.module] if node.module else []))
                for alias in node.names:
                    # ``from . import services`` imports the submodule, not the package.
                    targets.add(known(f"{base}.{alias.name}") if f"{base}.{alias.name}" in paths
                                else known(base))
        graph[module] = {target for target in targets if target and target != module}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def test_circles_are_found():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert _circles(graph) == [["a", "b", "c"]]


def test_no_import_circles():
    circles = _circles(_module_graph())
    assert not circles, "modules that import each other (directly or round about):\n" + "\n".join(
        " <-> ".join(group) for group in circles
    )
