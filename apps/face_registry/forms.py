from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from apps.common.forms import MultipleFileField


class SpaceForm(forms.Form):
    # People tell their spaces apart by name ("Family", "Office"); the number 0–9 is only the
    # API's handle for it.
    name = forms.CharField(
        max_length=100, label=_("Name"),
        error_messages={"required": _("Give the space a name, such as “Family”.")},
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(self.fields["name"].error_messages["required"])
        return name


class PersonNameForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, label=_("Name"))


class EnrollForm(forms.Form):
    """Photos of one person; on a space page the person is a new one (named here) or one of the
    space's persons, picked by name — the number is the API's handle, not something to type."""

    person_id = forms.TypedChoiceField(
        coerce=int, empty_value=None, required=False, label=_("Person"),
    )
    name = forms.CharField(
        max_length=100, required=False, label=_("Name"), help_text=_("For a new person."),
    )
    photos = MultipleFileField(label=_("Photos (one face each)"))

    def __init__(self, *args, with_person: bool = True, persons=(), **kwargs):
        super().__init__(*args, **kwargs)
        if not with_person:
            del self.fields["person_id"]
            del self.fields["name"]
            return
        self.fields["person_id"].choices = [("", _("A new person"))] + [
            (person.person_id, person.title) for person in persons
        ]

    def clean_photos(self):
        photos = self.cleaned_data["photos"]
        if len(photos) > settings.ENHANCER_MAX_FILES_PER_UPLOAD:
            raise forms.ValidationError(
                ngettext_lazy(
                    "Send at most %(count)s photo at once.", "Send at most %(count)s photos at once.",
                    "count",
                ),
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
