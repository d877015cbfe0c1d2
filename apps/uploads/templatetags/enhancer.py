"""Template filters that put the engine's English names and messages into the page's language.

    {% load enhancer %}
    {{ job.operation|operation_label }} {{ output.kind|output_label }} {{ job.status|status_label:job.error_code }}
    {{ job.params|params_text }} {{ job.error_message|error_text:job.error_code }}
"""

from __future__ import annotations

from django import template

from .. import error_text as errors
from .. import operation_text

register = template.Library()


@register.filter
def operation_label(name: str) -> str:
    return operation_text.operation_label(name)


@register.filter
def output_label(kind: str) -> str:
    return operation_text.output_label(kind)


@register.filter
def status_label(status: str, error_code: str = "") -> str:
    return operation_text.status_label(status, error_code)


@register.filter
def params_text(params: dict) -> str:
    return operation_text.describe_params(params)


@register.filter
def error_text(message: str, code: str = "") -> str:
    return errors.translate_message(message, code)


@register.filter
def get_item(mapping: dict, key: str):
    """``{{ reasons|get_item:name }}``: a dict's value for a key held in a variable."""
    return (mapping or {}).get(key)

