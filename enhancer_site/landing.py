"""The front page: what Enhancer does, shown with examples the engine made from real photos."""

from __future__ import annotations

import json
from functools import cache

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apps.imaging.operations import availability
from apps.uploads.operation_text import COLOUR_OUTPUTS, SENTENCES, describe_operations


@cache
def examples() -> dict[str, dict]:
    """Operation → its example (scripts/make_examples.py wrote the pictures and this list)."""
    path = finders.find("img/examples/examples.json")
    if not path:
        return {}
    with open(path, encoding="utf-8") as handle:
        return {item["operation"]: item for item in json.load(handle)}


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("uploads:new")
    shown = examples()
    # Only what this server can do is advertised, each with the example it made.
    available = {name for name, reason in availability().items() if not reason}
    operations = []
    for operation in describe_operations():
        if operation["name"] not in available:
            continue
        example = shown.get(operation["name"])
        # The card claims no colour version its example does not show.
        if example and example["output"] not in COLOUR_OUTPUTS:
            operation["sentence"] = str(SENTENCES.get(f"{operation['name']}-no-colour", operation["sentence"]))
        operations.append({**operation, "example": example})
    return render(request, "landing.html", {"operations": operations})
