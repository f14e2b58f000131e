"""Form helpers shared by every app's views."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed


def apply_service_errors(form, error):
    """Show a service's ValidationError on the form: beside the field it names, or on top of the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class CountsEveryFailure:
    """Sign-in forms that count every failed attempt for the lockout, whatever was typed.

    Django authenticates, and so signals a failure to django-axes, only when both fields pass their own
    checks: an empty password or a user name over 150 characters would fail without moving the counter.
    """

    def clean(self):
        if self.cleaned_data.get("username") is None or not self.cleaned_data.get("password"):
            user_login_failed.send(
                sender=__name__,
                credentials={"username": self.data.get("username", "")},
                request=self.request,
            )
            return self.cleaned_data
        return super().clean()


class SignInForm(CountsEveryFailure, AuthenticationForm):
    pass


class AdminSignInForm(CountsEveryFailure, AdminAuthenticationForm):
    pass


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=40,
        help_text="The 6-digit code your authenticator app shows now, or one of your recovery codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text"}
        ),
    )


class EnrolmentForm(forms.Form):
    code = forms.CharField(
        label="Code from the app",
        max_length=40,
        help_text="After adding the account, type the 6-digit code the app shows.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
