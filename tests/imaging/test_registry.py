"""The operation registry: one list of names, registered in one place, no import circle."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from apps.imaging import operation, operations
from apps.imaging.errors import EnhancerError


def test_the_registry_holds_exactly_the_named_operations():
    # As a set: tests that swap an operation out and back may reorder the dict; the import-time
    # order is checked in a fresh interpreter below.
    assert set(operations.REGISTRY) == set(operation.NAMES)


def test_settings_switch_a_provider_for_every_registered_operation(settings):
    assert set(settings.ENHANCER_PROVIDERS) == set(operations.REGISTRY)


def test_operation_modules_do_not_import_the_registry_module():
    # Each module, imported alone in a fresh interpreter, must not pull operations.py in:
    # operations imports them, never the other way round.
    code = (
        "import sys\n"
        "for name in ('colorize', 'contrast', 'dehaze', 'improve', 'restore', 'upscale'):\n"
        "    __import__(f'apps.imaging.{name}')\n"
        "assert 'apps.imaging.operations' not in sys.modules, 'circle'\n"
        "from apps.imaging import operation, operations\n"
        "assert tuple(operations.REGISTRY) == operation.NAMES\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_the_leaf_module_is_light():
    code = "import sys, apps.imaging.operation; print('numpy' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "False", done.stderr


def test_a_declaration_mistake_fails_at_import_not_in_a_request():
    with pytest.raises(ValueError, match="default"):
        operation.Param("factor", (operation.Choice(2, "×2"),), 4, "Factor")
    with pytest.raises(ValueError, match="every choice"):
        operation.Param("factor", (operation.Choice(2, "×2"), operation.Choice("4", "×4")), 2, "Factor")
    with pytest.raises(ValueError, match="lower-cased"):
        operation.Param("kind", (operation.Choice("Photo", "Photo"),), "Photo", "Kind")


def test_an_operation_checks_what_one_declaration_cannot_say():
    def no_big_art(params: dict) -> None:
        if (params["factor"], params["kind"]) == (4, "art"):
            raise EnhancerError(EnhancerError.BAD_PARAMS, "art goes up by 2 only here")

    art = replace(operations.get("upscale"), check=no_big_art)
    assert art.clean_params({"kind": "art", "factor": "2"}) == {"factor": 2, "kind": "art", "quality": "best"}
    with pytest.raises(EnhancerError, match="by 2 only"):
        art.clean_params({"kind": " Art "})
