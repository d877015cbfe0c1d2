from __future__ import annotations

from django import forms
from django.conf import settings

from apps.uploads.forms import MultipleFileField


class SpaceForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, label="Name")


class PersonNameForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, label="Name")


class EnrollForm(forms.Form):
    """Photos of one person; on a space page the person is picked (or created) by number."""

    person_id = forms.IntegerField(
        min_value=0, max_value=2**31 - 1, required=False, label="Person number",
        help_text="Leave empty for a new person.",
    )
    name = forms.CharField(max_length=100, required=False, label="Name")
    photos = MultipleFileField(label="Photos (one face each)")

    def __init__(self, *args, with_person: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_person:
            del self.fields["person_id"]
            del self.fields["name"]

    def clean_photos(self):
        photos = self.cleaned_data["photos"]
        if len(photos) > settings.ENHANCER_MAX_FILES_PER_UPLOAD:
            raise forms.ValidationError(
                f"Send at most {settings.ENHANCER_MAX_FILES_PER_UPLOAD} photos at once."
            )
        return photos


class RecognizeForm(forms.Form):
    photo = forms.FileField(
        label="Photo", widget=forms.ClearableFileInput(attrs={"accept": "image/*"})
    )
    create_new = forms.BooleanField(
        required=False, label="Add unknown faces as new persons"
    )
