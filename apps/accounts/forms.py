from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from . import throttle
from .models import User


class SignUpForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class ThrottledLoginMixin:
    """Refuses a locked user name + address before any password is checked (throttle.py)."""

    request = None
    cleaned_data: dict

    def clean(self):
        username = self.cleaned_data.get("username")
        if username and self.request is not None:
            wait = throttle.seconds_locked(self.request, username)
            if wait:
                raise forms.ValidationError(throttle.message(wait), code="throttled")
        return super().clean()


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
