from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from apps.common.forms import MultipleFileField
from apps.common.images import Refused, validate_uploads
from apps.imaging import operations
from apps.imaging.errors import EnhancerError

from . import costs, services
from .error_text import error_text
from .operation_text import operation_label


def operation_choices() -> list[tuple[str, str]]:
    return [(name, operation_label(name)) for name in operations.REGISTRY]


class UploadForm(forms.Form):
    photos = MultipleFileField(label=_("Photos"))
    operation = forms.ChoiceField(
        choices=operation_choices, widget=forms.RadioSelect, initial="dehaze", label=_("Operation")
    )
    factor = forms.TypedChoiceField(
        choices=[(2, "×2"), (4, "×4")], coerce=int, initial=4, required=False, label=_("Upscale factor")
    )
    kind = forms.ChoiceField(
        choices=[("photo", _("Photo")), ("art", _("Art / drawing"))], initial="photo", required=False,
        label=_("Upscale kind"),
    )
    quality = forms.ChoiceField(
        choices=[("best", _("Best")), ("fast", _("Fast"))], initial="best", required=False,
        label=_("Upscale quality"),
        help_text=_("Fast: a light network, several times quicker, a little less detail."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Files left out, each with its reason; the page marks each one and the good ones go.
        self.refused: list[Refused] = []
        self.photo_indexes: list[int] = []

    @property
    def file_errors(self) -> dict[int, str]:
        """Index of the file in the upload → why it was refused, in the page's language."""
        return {item.index: error_text(item.error) for item in self.refused}

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
            params = {}
            if operation == "upscale":
                # What was chosen; the engine's clean_params fills in its defaults (one place).
                params = {
                    name: cleaned[name] for name in ("factor", "kind", "quality") if cleaned.get(name)
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
