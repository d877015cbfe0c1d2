from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.common.forms import MultipleFileField
from apps.common.images import read_upload, validate_image
from apps.imaging import operations
from apps.imaging.errors import EnhancerError

from . import costs, services
from .error_text import translate_error
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
        # Index of the file in the upload → why it was refused; the page marks each one.
        self.file_errors: dict[int, str] = {}

    def clean_photos(self):
        uploads = self.cleaned_data["photos"]
        if len(uploads) > settings.ENHANCER_MAX_FILES_PER_UPLOAD:
            raise forms.ValidationError(
                _("Send at most %(count)s photos at once."),
                params={"count": settings.ENHANCER_MAX_FILES_PER_UPLOAD},
            )
        images, errors = [], []
        for index, upload in enumerate(uploads):
            try:
                images.append(validate_image(read_upload(upload), upload.name))
            except EnhancerError as error:
                self.file_errors[index] = translate_error(error)
                errors.append(f"{upload.name}: {self.file_errors[index]}")
        if errors:
            # All or nothing: one refused photo stores none, so a fixed resend makes no twins.
            raise forms.ValidationError(errors)
        return images

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
                self.add_error("operation", translate_error(error))
            else:
                try:
                    # Refused now, with what would fit, rather than stopped after the time limit.
                    cleaned["plans"] = costs.admit(
                        operation, cleaned["params"], cleaned.get("photos") or []
                    )
                except EnhancerError as error:
                    self.add_error(None, translate_error(error))
        return cleaned
