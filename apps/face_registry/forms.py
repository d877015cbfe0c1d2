from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.common.forms import MultipleFileField

from .services import MAX_PERSON_ID


class SpaceForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, label=_("Name"))


class PersonNameForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, label=_("Name"))


class EnrollForm(forms.Form):
    """Photos of one person; on a space page the person is picked (or created) by number."""

    person_id = forms.IntegerField(
        min_value=0, max_value=MAX_PERSON_ID, required=False, label=_("Person number"),
        help_text=_("Leave empty for a new person."),
    )
    name = forms.CharField(max_length=100, required=False, label=_("Name"))
    photos = MultipleFileField(label=_("Photos (one face each)"))

    def __init__(self, *args, with_person: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_person:
            del self.fields["person_id"]
            del self.fields["name"]

    def clean_photos(self):
        photos = self.cleaned_data["photos"]
        if len(photos) > settings.ENHANCER_MAX_FILES_PER_UPLOAD:
            raise forms.ValidationError(
                _("Send at most %(count)s photos at once."),
                params={"count": settings.ENHANCER_MAX_FILES_PER_UPLOAD},
            )
        return photos


class RecognizeForm(forms.Form):
    photo = forms.FileField(
        label=_("Photo"), widget=forms.ClearableFileInput(attrs={"accept": "image/*"})
    )
    create_new = forms.BooleanField(
        required=False, label=_("Add unknown faces as new persons")
    )
