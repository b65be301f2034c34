from base64 import b32encode

import segno
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from accounts.models import Authenticator, PasswordPolicy, SecuritySettings
from accounts.policies import SYSTEM_POLICY_CHOICES
from accounts.services.alias import alias_problems
from accounts.services.reveals import FORM_TOKEN_RE, new_form_token

OTP_HELP = "The 6-digit code from your authenticator app (or one of your backup codes)."


def helper(submit_label: str, *, css_class: str = "btn-primary") -> FormHelper:
    form_helper = FormHelper()
    button = Submit("submit", submit_label)
    button.field_classes = f"btn {css_class}"  # Submit's own default would add btn-primary to any colour
    form_helper.add_input(button)
    return form_helper


class OneTimeCodeInput(forms.TextInput):
    """Never renders what was typed: a used code is worth nothing, and a backup code must not be shown again
    (SPEC §3 rule 1) when a form comes back with an error or a reloaded form is posted twice."""

    def format_value(self, value):
        return None


class OtpCodeField(forms.CharField):
    widget = OneTimeCodeInput

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Verification code")
        kwargs.setdefault("help_text", OTP_HELP)
        kwargs.setdefault("max_length", 16)
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True})


class FormTokenField(forms.CharField):
    """The one-time token of a secret-issuing form instance (accounts.services.reveals): a repeated submission of
    the same form does no new work. A post without a valid one (a script) counts as a form of its own."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, max_length=64, initial=new_form_token, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return value if FORM_TOKEN_RE.fullmatch(value) else new_form_token()


class SignInForm(forms.Form):
    """The password step; with `needs_code`, a code of the person's MFA device in the same step (the name is locked
    against password guessing: accounts.services.guessing)."""

    password = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, *args, needs_code: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if needs_code:
            self.ask_for_code()

    def ask_for_code(self) -> None:
        field = OtpCodeField(help_text="The 6-digit code from your authenticator app, or one of your backup codes.")
        field.widget.attrs.pop("autofocus", None)
        self.fields["otp_code"] = field


class OwnerSignInForm(SignInForm):
    email = forms.EmailField(label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "username"}))
    field_order = ["email", "password"]


class RamSignInForm(SignInForm):
    login = forms.CharField(
        label="Logon name",
        max_length=200,
        help_text="Your user name, or the full logon name user@domain.",
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    field_order = ["login", "password"]


class SignUpForm(forms.Form):
    name = forms.CharField(label="Account name", max_length=128)
    email = forms.EmailField(label="Email", max_length=254)
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; not a common password.",
    )


class OtpForm(forms.Form):
    otp_code = OtpCodeField()


DELIVERY_CHOICES = [
    ("show", "Show the secrets now (and print the delivery sheet from the page)"),
    ("seal", "Seal them in a delivery packet, to print as PDF or email with a claim link later"),
]


def delivery_field() -> forms.ChoiceField:
    # Optional: a form posted without it (an older page, a script) shows the secrets, as before packets.
    return forms.ChoiceField(
        label="Deliver the new secrets",
        choices=DELIVERY_CHOICES,
        initial="show",
        required=False,
        widget=forms.RadioSelect,
    )


class CreateUsersOptionsForm(forms.Form):
    """What applies to the whole "Create User" request."""

    deliver = delivery_field()
    otp_code = OtpCodeField(
        required=False,
        help_text="Needed when a user gets an AccessKey: the code from your authenticator app.",
    )
    form_token = FormTokenField()

    def __init__(self, *args, needs_otp: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["otp_code"].widget.attrs.pop("autofocus", None)
        if needs_otp:
            self.fields["otp_code"].required = True


class IssueSecretWithOtpForm(OtpForm):
    """A code-checked form that issues a secret shown once: the primary account's or one's own AccessKey, new
    backup codes."""

    form_token = FormTokenField()


class CreateAccessKeyForm(IssueSecretWithOtpForm):
    deliver = delivery_field()


class EmailPacketForm(forms.Form):
    packet = forms.IntegerField(label="Packet")
    to = forms.EmailField(label="Send to", max_length=254)


class EnrolForm(forms.Form):
    device_id = forms.IntegerField(widget=forms.HiddenInput)
    otp_code = OtpCodeField(help_text="The 6-digit code the authenticator shows after you added the key.")
    form_token = FormTokenField()  # an owner's new device brings new backup codes, shown once

    def clean(self):
        data = super().clean()
        if self.has_error("device_id"):
            # The field is hidden, so its own error would never be seen: say it where the person looks.
            self.add_error("otp_code", "This enrolment has expired; scan the new QR code.")
        return data


class ReplaceMfaForm(EnrolForm):
    current_otp_code = OtpCodeField(label="Code from your current authenticator", help_text="")


class NewPasswordForm(forms.Form):
    current_password = forms.CharField(
        label="Current password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password = forms.CharField(
        label="New password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    confirm_password = forms.CharField(
        label="Confirm new password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("confirm_password"):
            self.add_error("confirm_password", "The two passwords do not match.")
        return data


class NewRamUserForm(forms.Form):
    name = forms.CharField(label="User name", max_length=64)
    display_name = forms.CharField(label="Display name", max_length=128)
    email = forms.EmailField(label="Email", max_length=254, required=False)
    mobile_phone = forms.CharField(label="Mobile phone", max_length=32, required=False)
    comments = forms.CharField(label="Comments", max_length=128, required=False)
    console_logon = forms.BooleanField(label="Console Password Logon", required=False)
    password_mode = forms.ChoiceField(
        label="Password",
        choices=[("generate", "Automatically generate a password"), ("custom", "Custom password")],
        initial="generate",
        widget=forms.RadioSelect,
        required=False,
    )
    password = forms.CharField(
        label="Custom password",
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    must_reset_password = forms.BooleanField(label="Require password reset at next logon", required=False, initial=True)
    must_bind_mfa = forms.BooleanField(label="Require MFA at next logon", required=False)
    create_access_key = forms.BooleanField(label="Create AccessKey (programmatic access)", required=False)

    def clean(self):
        data = super().clean()
        if data.get("console_logon") and data.get("password_mode") == "custom" and not data.get("password"):
            self.add_error("password", "Enter the custom password, or choose to generate one.")
        return data


class BaseNewRamUserFormSet(forms.BaseFormSet):
    pass


NewRamUserFormSet = forms.formset_factory(
    NewRamUserForm,
    formset=BaseNewRamUserFormSet,
    extra=0,  # min_num gives the one row the page starts with; "Add another user" adds more
    min_num=1,
    validate_min=True,
    max_num=settings.PORTAL_MAX_USERS_PER_CREATE,
    validate_max=True,
    absolute_max=settings.PORTAL_MAX_USERS_PER_CREATE,
)


class EditRamUserForm(forms.Form):
    name = forms.CharField(label="User name", max_length=64)
    display_name = forms.CharField(label="Display name", max_length=128)
    email = forms.EmailField(label="Email", max_length=254, required=False)
    mobile_phone = forms.CharField(label="Mobile phone", max_length=32, required=False)
    comments = forms.CharField(label="Comments", max_length=128, required=False)


class LogonSettingsForm(forms.Form):
    is_enabled = forms.TypedChoiceField(
        label="Console Password Logon",
        choices=[("1", "Enable"), ("0", "Disable")],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    password_mode = forms.ChoiceField(
        label="Password",
        choices=[
            ("keep", "Keep the current password"),
            ("generate", "Automatically generate a password"),
            ("custom", "Custom password"),
        ],
        initial="keep",
        widget=forms.RadioSelect,
    )
    password = forms.CharField(
        label="Custom password",
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    must_reset_password = forms.BooleanField(label="Require password reset at next logon", required=False)
    must_bind_mfa = forms.BooleanField(label="Require MFA at next logon", required=False)
    deliver = delivery_field()
    form_token = FormTokenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = helper("OK")
        self.helper.form_tag = False  # the page's own form element: sent once, with a note when sent before

    @property
    def issues_password(self) -> bool:
        data = self.cleaned_data
        return data["is_enabled"] and data["password_mode"] in ("generate", "custom")

    def clean(self):
        data = super().clean()
        if data.get("is_enabled") and data.get("password_mode") == "custom" and not data.get("password"):
            self.add_error("password", "Enter the custom password, or choose another option.")
        return data


class DeleteRamUserForm(forms.Form):
    confirm_name = forms.CharField(label="Type the user name to confirm", max_length=64)
    otp_code = OtpCodeField()

    def __init__(self, *args, ram_user, **kwargs):
        super().__init__(*args, **kwargs)
        self.ram_user = ram_user
        self.helper = helper("Delete", css_class="btn-danger")

    def clean_confirm_name(self):
        value = self.cleaned_data["confirm_name"]
        if value != self.ram_user.name:
            raise forms.ValidationError(f"Type {self.ram_user.name} exactly.")
        return value


class AttachPolicyForm(forms.Form):
    policy_name = forms.ChoiceField(label="Policy", choices=SYSTEM_POLICY_CHOICES)


class SecuritySettingsForm(forms.ModelForm):
    logon_ip_masks = forms.CharField(
        label="Logon IP masks",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Up to 40 addresses or CIDR blocks, one per line or separated by commas. "
        "Empty: sign-in from anywhere. They restrict console sign-in, not API calls.",
    )
    otp_code = OtpCodeField()

    class Meta:
        model = SecuritySettings
        fields = [
            "allow_change_password",
            "allow_manage_access_keys",
            "allow_manage_mfa",
            "remember_mfa_for_7_days",
            "session_hours",
        ]
        labels = {
            "allow_change_password": "Allow users to change their password",
            "allow_manage_access_keys": "Manage AccessKey: allow users to manage their own AccessKeys",
            "allow_manage_mfa": "Allow users to manage their MFA devices",
            "remember_mfa_for_7_days": "Remember MFA for 7 days",
            "session_hours": "Logon session duration (hours, 1–24)",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session_hours"].widget.attrs.update({"min": 1, "max": 24})
        if not self.is_bound:
            self.initial["logon_ip_masks"] = "\n".join(self.instance.logon_ip_masks)
        self.helper = helper("Update RAM User Security Settings")

    def clean_logon_ip_masks(self):
        raw = self.cleaned_data["logon_ip_masks"]
        return [part for part in raw.replace(",", "\n").split() if part]


class PasswordPolicyForm(forms.ModelForm):
    otp_code = OtpCodeField()

    class Meta:
        model = PasswordPolicy
        fields = [
            "minimum_length",
            "require_lowercase",
            "require_uppercase",
            "require_numbers",
            "require_symbols",
            "max_age_days",
            "reuse_prevention",
            "max_failed_attempts",
            "hard_expiry",
        ]
        labels = {
            "minimum_length": "Minimum length (8–32)",
            "require_lowercase": "Require lowercase letters",
            "require_uppercase": "Require uppercase letters",
            "require_numbers": "Require digits",
            "require_symbols": "Require symbols",
            "max_age_days": "Maximum password age in days (0–1095; 0 = never expires)",
            "reuse_prevention": "Prevent reuse of the last N passwords (0–24)",
            "max_failed_attempts": "Lock for one hour after this many failed sign-ins (0–32; 0 = never)",
            "hard_expiry": "Block sign-in when the password has expired",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = helper("OK")


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label="Actor", required=False, max_length=200)
    action = forms.CharField(label="Action", required=False, max_length=64)
    target = forms.CharField(label="Target", required=False, max_length=255)
    channel = forms.ChoiceField(
        label="Channel",
        required=False,
        choices=[("", "Any"), ("console", "Console"), ("api", "API"), ("command", "Operator command")],
    )
    since = forms.DateField(label="From (UTC)", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To (UTC)", required=False, widget=forms.DateInput(attrs={"type": "date"}))


class EnterpriseAliasForm(forms.Form):
    alias = forms.CharField(
        label="Enterprise alias",
        widget=forms.TextInput(attrs={"maxlength": 50, "autocomplete": "off", "autofocus": True}),
    )
    otp_code = OtpCodeField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["alias"].help_text = (
            "3–50 lowercase letters, digits and single hyphens, not starting or ending with a hyphen. "
            f"RAM users then sign in as, for example, alice@your-alias.{settings.PORTAL_DOMAIN_SUFFIX}."
        )
        self.fields["otp_code"].widget.attrs.pop("autofocus", None)
        self.helper = helper("OK")

    def clean_alias(self):
        alias = self.cleaned_data["alias"].strip().lower()
        problems = alias_problems(alias)
        if problems:
            raise forms.ValidationError(problems)
        return alias


class ClearEnterpriseAliasForm(forms.Form):
    otp_code = OtpCodeField()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "clear")  # its code field sits on the page beside the alias form's
        super().__init__(*args, **kwargs)
        self.fields["otp_code"].widget.attrs.pop("autofocus", None)
        self.helper = helper("Clear alias", css_class="btn-outline-danger")
        self.helper.inputs[0].id = "submit-id-clear"  # unique beside the alias form's button
        self.helper.form_action = "accounts:clear-enterprise-alias"


def add_errors(form, error: ValidationError) -> None:
    """Puts a service's ValidationError beside the form's fields (or at the top)."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def enrolment_context(form, device: Authenticator, user) -> dict:
    """What an enrolment page shows beside its form: the new key as a QR code and as text, shown this once."""
    base32_key = b32encode(device.bin_key).decode().rstrip("=")
    return {
        "form": form,
        "qr_code": segno.make(device.config_url, error="m").svg_data_uri(scale=5),
        "base32_key": " ".join(base32_key[i : i + 4] for i in range(0, len(base32_key), 4)),
        "account_label": user.display,
    }
