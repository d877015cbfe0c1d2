"""Template filters that put the engine's English names and messages into the page's language.

    {% load enhancer %}
    {{ job.operation|operation_label }} {{ output.kind|output_label }} {{ job.status|status_label:job.error_code }}
    {{ job.params|params_text }} {{ job|error_text }}
"""

from __future__ import annotations

from django import template
from django.utils.text import capfirst
from django.utils.translation import pgettext

from .. import error_text as errors
from .. import info_text, operation_text

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
def error_text(error) -> str:
    """A job's error, or an EnhancerError."""
    return errors.error_text(error)


@register.filter
def listing(items) -> str:
    return operation_text.join_list(items)


@register.filter
def sentence(phrase: str) -> str:
    """"little needed repair" → "Little needed repair." ("。" in Chinese)."""
    return capfirst(phrase) + pgettext("sentence end", ".")


@register.filter
def info_rows(info: dict) -> list[tuple[str, str]]:
    return info_text.describe_info(info)


@register.filter
def result_hint(job) -> str:
    return info_text.result_hint(job)


@register.filter
def get_item(mapping: dict, key: str):
    """``{{ reasons|get_item:name }}``: a dict's value for a key held in a variable."""
    return (mapping or {}).get(key)

