from __future__ import annotations

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from apps.uploads.forms import operation_choices
from apps.uploads.models import Job
from apps.uploads.operation_text import status_label


def _operation_choices() -> list[tuple[str, str]]:
    return [("", _("All operations"))] + operation_choices()


def _status_choices() -> list[tuple[str, str]]:
    # Capitalised like "Any status" beside them (the labels are lower case for use in sentences).
    return [("", _("Any status"))] + [(value, capfirst(status_label(value))) for value in Job.Status.values]


class HistoryFilterForm(forms.Form):
    """The history page's filters; an unknown value is ignored rather than an error page."""

    operation = forms.ChoiceField(choices=_operation_choices, required=False, label=_("Operation"))
    status = forms.ChoiceField(choices=_status_choices, required=False, label=_("Status"))

    def filter(self, jobs):
        if not self.is_valid():
            return jobs
        if self.cleaned_data["operation"]:
            jobs = jobs.filter(operation=self.cleaned_data["operation"])
        if self.cleaned_data["status"]:
            jobs = jobs.filter(status=self.cleaned_data["status"])
        return jobs
