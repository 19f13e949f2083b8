"""The staff sign-in form, with GOV.UK wording."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Field, Fixed, Layout
from django import forms
from django.contrib.auth.forms import AuthenticationForm, UsernameField

# One message for every refusal, so that it never says which of the two was wrong (or
# whether the account exists or is active).
WRONG_DETAILS = "Enter a correct username and password"


class SignInForm(AuthenticationForm):
    """Django's AuthenticationForm (no staff status needed) with GOV.UK labels and errors."""

    username = UsernameField(
        label="Username",
        # No autofocus: GOV.UK pages leave focus where the user puts it.
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
        error_messages={"required": "Enter your username"},
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password"},
    )

    error_messages = {"invalid_login": WRONG_DETAILS, "inactive": WRONG_DETAILS}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the template's <form> has the token
        self.helper.layout = Layout(
            Field.text("username", field_width=Fixed.TWENTY),
            Field.text("password", field_width=Fixed.TWENTY),
        )

    def full_clean(self) -> None:
        super().full_clean()
        # crispy-forms-gds gives text inputs, not password inputs, the red error border.
        if self.has_error("password"):
            self.fields["password"].widget.attrs["class"] = "govuk-input--error"
