"""Every EnhancerError is raised with an English template the pages can translate.

The source is read, not run: each ``EnhancerError(...)`` call under apps/ must take a
``gettext_noop("literal")`` as its message, and each literal must be translated, with the same
placeholders, in every language the site offers.
"""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

APPS = Path(__file__).resolve().parent.parent / "apps"
ERRORS = APPS / "imaging" / "errors.py"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _calls() -> list[tuple[str, ast.Call]]:
    found = []
    for path in sorted(APPS.rglob("*.py")):
        if path == ERRORS:
            continue  # the class itself, rebuilding an unpickled error from its parts
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) == "EnhancerError":
                found.append((f"{path.relative_to(APPS.parent)}:{node.lineno}", node))
    return found


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _template(call: ast.Call) -> str | None:
    """The literal of ``gettext_noop("...")`` given as the second argument, else None."""
    if len(call.args) < 2:
        return None
    message = call.args[1]
    if (
        isinstance(message, ast.Call)
        and _name(message.func) == "gettext_noop"
        and len(message.args) == 1
        and isinstance(message.args[0], ast.Constant)
        and isinstance(message.args[0].value, str)
    ):
        return message.args[0].value
    return None


def templates() -> dict[str, str]:
    """template → where it is first raised."""
    found: dict[str, str] = {}
    for where, call in _calls():
        template = _template(call)
        assert template is not None, f"{where}: the message must be gettext_noop(\"a literal\")"
        found.setdefault(template, where)
    return found


def test_every_raise_site_gives_a_marked_literal_template():
    found = templates()
    # All of them, not a lucky few: the engine, the providers and the apps each raise many.
    assert len(_calls()) > 70 and len(found) > 60


@pytest.mark.parametrize("language", ["ru", "zh_Hans"])
def test_every_template_is_translated_with_the_same_placeholders(language):
    folder = settings.LOCALE_PATHS[0] / language / "LC_MESSAGES"
    with (folder / "django.mo").open("rb") as handle:
        # Compiled without fuzzy entries; tests/web/test_landing_and_languages.py checks that
        # the .mo is the .po compiled.
        catalog = gettext.GNUTranslations(handle)._catalog
    missing, wrong = [], []
    for template, where in templates().items():
        translation = catalog.get(template)
        if not translation:
            missing.append(f"{where}: {template!r}")
        elif sorted(PLACEHOLDER.findall(translation)) != sorted(PLACEHOLDER.findall(template)):
            wrong.append(f"{where}: {template!r} → {translation!r}")
    assert not missing, "not translated:\n" + "\n".join(missing)
    assert not wrong, "other placeholders:\n" + "\n".join(wrong)
