"""Forms of signing in and of one's own credentials: password step, codes, enrolment, new passwords."""

from base64 import b32encode
from typing import Any

import segno
from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from accounts.forms.fields import PASSKEY_ATTRIBUTE, FormTokenField, OtpCodeField
from accounts.models import Authenticator, User


class SignInForm(forms.Form):
    """The password step; with `needs_code`, a code of the person's MFA device in the same step (the name is locked
    against password guessing: accounts.services.guessing)."""

    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, needs_code: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if needs_code:
            self.ask_for_code()

    def ask_for_code(self) -> None:
        field = OtpCodeField(
            passkey=False,  # (before the password is checked, a passkey cannot tell who signs in)
            help_text=gettext_lazy("The 6-digit code from your authenticator app, or one of your backup codes."),
        )
        field.widget.attrs.pop("autofocus", None)
        self.fields["otp_code"] = field


class OwnerSignInForm(SignInForm):
    email = forms.EmailField(
        label=gettext_lazy("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "username"})
    )
    field_order = ["email", "password"]


class RamSignInForm(SignInForm):
    login = forms.CharField(
        label=gettext_lazy("Logon name"),
        max_length=200,
        help_text=gettext_lazy("Your user name, or the full logon name user@domain."),
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    field_order = ["login", "password"]


class SignUpForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Account name"), max_length=128)
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254)
    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("At least 12 characters; not a common password."),
    )


def device_name_field(label: StrOrPromise, help_text: StrOrPromise) -> forms.CharField:
    """The name a new MFA device (authenticator or passkey) gets; empty: the name it was offered with. The service's
    rule (1 to 64 characters, accounts.services.otp.device_name_problems) gives the message."""
    return forms.CharField(label=label, max_length=200, required=False, help_text=help_text)


class OtpForm(forms.Form):
    otp_code = OtpCodeField()


class AddPasskeyForm(OtpForm):
    """ "Add a passkey": its name, to tell one's devices apart, and a code from a device already bound."""

    name = device_name_field(
        gettext_lazy("Passkey name"),
        gettext_lazy(
            "To tell your devices apart, e.g. <code>work-laptop</code> or <code>yubikey</code>. Letters, digits, "
            "periods, hyphens, underscores."
        ),
    )
    field_order = ["name", "otp_code"]


class EnrolForm(forms.Form):
    device_id = forms.IntegerField(widget=forms.HiddenInput)
    otp_code = OtpCodeField(
        passkey=False, help_text=gettext_lazy("The 6-digit code the authenticator shows after you added the key.")
    )
    form_token = FormTokenField()  # an owner's new device brings new backup codes, shown once

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.has_error("device_id"):
            # The field is hidden, so its own error would never be seen: say it where the person looks.
            self.add_error("otp_code", _("This enrolment has expired; scan the new QR code."))
        return data


class NamedEnrolForm(EnrolForm):
    """Binding an MFA device from one's own page: the device gets a name, to tell one's devices apart."""

    name = device_name_field(
        gettext_lazy("Device name"),
        gettext_lazy(
            "To tell your devices apart, e.g. <code>work-phone</code>. Letters, digits, periods, hyphens, underscores."
        ),
    )
    field_order = ["name", "otp_code"]


class AddMfaDeviceForm(NamedEnrolForm):
    """Adding a device beside the ones bound: a code from one of them (or a backup code) first."""

    current_otp_code = forms.CharField(
        label=gettext_lazy("Code from one of your MFA devices"),
        max_length=32,
        help_text=gettext_lazy("Or one of your backup codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "spellcheck": "false", PASSKEY_ATTRIBUTE: "accepted"}
        ),
    )
    field_order = ["current_otp_code", "name", "otp_code"]


class ChoosePasswordForm(forms.Form):
    """A password the person chooses, typed twice (an accepted invitation; the forced change adds the current one)."""

    new_password = forms.CharField(
        label=gettext_lazy("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    confirm_password = forms.CharField(
        label=gettext_lazy("Confirm new password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("new_password") and data.get("new_password") != data.get("confirm_password"):
            self.add_error("confirm_password", _("The two passwords do not match."))
        return data


class NewPasswordForm(ChoosePasswordForm):
    current_password = forms.CharField(
        label=gettext_lazy("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["current_password", "new_password", "confirm_password"]


def enrolment_context(form: EnrolForm, device: Authenticator, user: User) -> dict[str, Any]:
    """What an enrolment page shows beside its form: the new key as a QR code and as text, shown this once."""
    base32_key = b32encode(device.bin_key).decode().rstrip("=")
    return {
        "form": form,
        "qr_code": segno.make(device.config_url, error="m").svg_data_uri(scale=5),
        "base32_key": " ".join(base32_key[i : i + 4] for i in range(0, len(base32_key), 4)),
        "account_label": user.display,
    }
