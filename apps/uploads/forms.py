from __future__ import annotations

from django import forms
from django.conf import settings

from apps.imaging import operations
from apps.imaging.errors import EnhancerError

from . import services


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*", "multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in files if item] or [
            super().clean(None, initial)
        ]


def operation_choices() -> list[tuple[str, str]]:
    return [(name, op.label) for name, op in operations.REGISTRY.items()]


class UploadForm(forms.Form):
    photos = MultipleFileField(label="Photos")
    operation = forms.ChoiceField(
        choices=operation_choices, widget=forms.RadioSelect, initial="dehaze"
    )
    factor = forms.TypedChoiceField(
        choices=[(2, "x2"), (4, "x4")], coerce=int, initial=4, required=False, label="Upscale factor"
    )
    kind = forms.ChoiceField(
        choices=[("photo", "Photo"), ("art", "Art / drawing")], initial="photo", required=False,
        label="Upscale kind",
    )

    def clean_photos(self):
        uploads = self.cleaned_data["photos"]
        if len(uploads) > settings.ENHANCER_MAX_FILES_PER_UPLOAD:
            raise forms.ValidationError(
                f"Send at most {settings.ENHANCER_MAX_FILES_PER_UPLOAD} photos at once."
            )
        images, errors = [], []
        for upload in uploads:
            try:
                images.append(services.validate_image(services.read_upload(upload), upload.name))
            except EnhancerError as error:
                errors.append(f"{upload.name}: {error.message}")
        if errors:
            raise forms.ValidationError(errors)
        return images

    def clean(self):
        cleaned = super().clean()
        operation = cleaned.get("operation")
        if operation:
            params = {}
            if operation == "upscale":
                params = {"factor": cleaned.get("factor") or 4, "kind": cleaned.get("kind") or "photo"}
            try:
                cleaned["params"] = services.validate_operation(operation, params)
            except EnhancerError as error:
                self.add_error("operation", error.message)
        return cleaned
