"""The front page: what Enhancer does, shown with examples the engine made from real photos."""

from __future__ import annotations

import json
from functools import cache

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from apps.uploads.operation_text import describe_operations


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
    operations = [
        {**operation, "example": shown.get(operation["name"])} for operation in describe_operations()
    ]
    return render(request, "landing.html", {"operations": operations})
