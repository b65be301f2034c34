"""What the portal's forms share: the submit helper, one-time code and form-token fields, and putting a
service's refusal beside the fields."""

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from accounts.services.reveals import FORM_TOKEN_RE, new_form_token

OTP_HELP = gettext_lazy("The 6-digit code from your authenticator app (or one of your backup codes).")


def helper(submit_label: StrOrPromise, *, css_class: str = "btn-primary") -> FormHelper:
    form_helper = FormHelper()
    button = Submit("submit", submit_label)
    button.field_classes = f"btn {css_class}"  # Submit's own default would add btn-primary to any colour
    form_helper.add_input(button)
    return form_helper


class OneTimeCodeInput(forms.TextInput):
    """Never renders what was typed: a used code is worth nothing, and a backup code must not be shown again
    (SPEC §3 rule 1) when a form comes back with an error or a reloaded form is posted twice."""

    def format_value(self, value: Any) -> None:
        return None


class OtpCodeField(forms.CharField):
    """A code from one of the person's MFA devices. Where it confirms that person (`passkey`, the default), the page
    offers "Use a passkey" beside it to the person who has one (portal.js): the passkey's one-time code then fills
    it. A code from a device being bound (`passkey=False`) is that device's own."""

    widget = OneTimeCodeInput

    def __init__(self, *, passkey: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("label", gettext_lazy("Verification code"))
        kwargs.setdefault("help_text", OTP_HELP)
        kwargs.setdefault("max_length", 16)
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True})
        if passkey:
            self.widget.attrs[PASSKEY_ATTRIBUTE] = "accepted"


# The attribute that marks a code field a passkey may answer (portal.js offers "Use a passkey" beside it).
PASSKEY_ATTRIBUTE = "data-passkey"


class FormTokenField(forms.CharField):
    """The one-time token of a secret-issuing form instance (accounts.services.reveals): a repeated submission of
    the same form does no new work. A post without a valid one (a script) counts as a form of its own."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, max_length=64, initial=new_form_token, **kwargs)

    def clean(self, value: Any) -> str:
        token: str = super().clean(value)
        return token if FORM_TOKEN_RE.fullmatch(token) else new_form_token()


def add_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Puts a service's ValidationError beside the form's fields (or at the top)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def posted_ids(data: object, field: str, *, limit: int = 1000) -> list[int]:
    """The row IDs ticked in a form (the first `limit`): ASCII digits only, and short; "²" passes isdigit(), and a
    5,000-digit number is no ID."""
    values = data.getlist(field)[:limit] if isinstance(data, QueryDict) else []
    return [int(value) for value in values if value.isascii() and value.isdigit() and len(value) <= 18]
