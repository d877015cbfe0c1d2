from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from apps.common.forms import MultipleFileField
from apps.common.images import Refused, validate_uploads
from apps.imaging import operations
from apps.imaging.errors import EnhancerError

from . import costs, services
from .error_text import error_text
from .operation_text import operation_label


def operation_choices() -> list[tuple[str, str]]:
    return [(name, operation_label(name)) for name in operations.REGISTRY]


def param_field(param: operations.Param) -> forms.Field:
    """A parameter's field: its choices, default, label and help in the page's language."""
    return forms.TypedChoiceField(
        choices=[(choice.value, _(choice.label)) for choice in param.choices],
        coerce=param.type, initial=param.default, required=False, label=_(param.label),
        help_text=_(param.help_text) if param.help_text else "",
    )


class UploadForm(forms.Form):
    photos = MultipleFileField(label=_("Photos"))
    operation = forms.ChoiceField(
        choices=operation_choices, widget=forms.RadioSelect, initial="dehaze", label=_("Operation")
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # One field per declared parameter, named as the API names it (``factor``); built per
        # form from the registry, so what is registered is what the page offers.
        for operation in operations.REGISTRY.values():
            for param in operation.params:
                if param.name in self.fields:
                    raise ImproperlyConfigured(
                        f"{operation.name}: the upload form already has a field {param.name!r}"
                    )
                self.fields[param.name] = param_field(param)
        # Files left out, each with its reason; the page marks each one and the good ones go.
        self.refused: list[Refused] = []
        self.photo_indexes: list[int] = []

    @property
    def file_errors(self) -> dict[int, str]:
        """Index of the file in the upload → why it was refused, in the page's language."""
        return {item.index: error_text(item.error) for item in self.refused}

    def param_groups(self) -> list[dict]:
        """Per operation that takes parameters, its fields: the page shows each group only while
        its operation is chosen."""
        return [
            {
                "operation": operation.name,
                "legend": gettext("%(operation)s options") % {"operation": operation_label(operation.name)},
                "fields": [self[param.name] for param in operation.params],
            }
            for operation in operations.REGISTRY.values()
            if operation.params
        ]

    def clean_photos(self):
        uploads = self.cleaned_data["photos"]
        if len(uploads) > settings.ENHANCER_MAX_FILES_PER_UPLOAD:
            raise forms.ValidationError(
                ngettext_lazy(
                    "Send at most %(count)s photo at once.", "Send at most %(count)s photos at once.",
                    "count",
                ),
                params={"count": settings.ENHANCER_MAX_FILES_PER_UPLOAD},
            )
        accepted, self.refused = validate_uploads(uploads)
        if not accepted:
            raise forms.ValidationError(
                [f"{item.name}: {error_text(item.error)}" for item in self.refused]
            )
        # One refused photo no longer stops the others: the good ones get their jobs and each
        # refused one is reported by name, so a resend of the fixed files makes no twins.
        self.photo_indexes = [index for index, _image in accepted]
        return [image for _index, image in accepted]

    def clean(self):
        cleaned = super().clean()
        operation = cleaned.get("operation")
        if operation:
            # What was chosen of this operation's parameters; the engine's clean_params fills in
            # its defaults (one place).
            params = {
                param.name: cleaned[param.name]
                for param in operations.REGISTRY[operation].params
                if cleaned.get(param.name) not in (None, "")
            }
            try:
                cleaned["params"] = services.validate_operation(operation, params)
            except EnhancerError as error:
                self.add_error("operation", error_text(error))
            else:
                # Refused now, with what would fit, rather than stopped after the time limit;
                # each photo on its own, so one too big for the limit leaves the others going.
                photos = cleaned.get("photos") or []
                answers = costs.admit_each(operation, cleaned["params"], photos)
                kept = []
                for index, image, answer in zip(self.photo_indexes, photos, answers, strict=True):
                    if isinstance(answer, EnhancerError):
                        self.refused.append(Refused(index, image.name, answer))
                    else:
                        kept.append((image, answer))
                self.refused.sort(key=lambda item: item.index)
                if photos and not kept:
                    self.add_error(None, error_text(answers[0]))
                cleaned["photos"] = [image for image, _plan in kept]
                cleaned["plans"] = [job_plan for _image, job_plan in kept]
        return cleaned
