"""Forms of administering RAM users: Create User, Modify Logon Settings, AccessKeys, packets, policies."""

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings

from accounts.forms.fields import FormTokenField, OtpCodeField, helper
from accounts.forms.sign_in import OtpForm
from accounts.models import RamUser
from accounts.policies import SYSTEM_POLICY_CHOICES

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

    def __init__(self, *args: Any, needs_otp: bool = False, **kwargs: Any) -> None:
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


class NewRamUserForm(forms.Form):
    name = forms.CharField(label="User name", max_length=64)
    display_name = forms.CharField(label="Display name", max_length=128)
    email = forms.EmailField(label="Email", max_length=254, required=False)
    mobile_phone = forms.CharField(label="Mobile phone", max_length=32, required=False)
    comments = forms.CharField(label="Comments", max_length=128, required=False)
    console_logon = forms.BooleanField(label="Console Password Logon", required=False)
    password_mode = forms.ChoiceField(
        label="Password",
        choices=[
            ("generate", "Automatically generate a password"),
            ("custom", "Custom password"),
            ("invite", "Invite by email: the person chooses a password"),
        ],
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

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("console_logon") and data.get("password_mode") == "custom" and not data.get("password"):
            self.add_error("password", "Enter the custom password, or choose to generate one.")
        inviting = data.get("console_logon") and data.get("password_mode") == "invite"
        # (Unless the address itself was refused: its own error says why.)
        if inviting and not data.get("email") and "email" not in self.errors:
            self.add_error("email", "Enter the email address the invitation goes to.")
        return data


if TYPE_CHECKING:
    # django-stubs makes BaseFormSet generic in its form; Django's own class takes no type arguments at run time.
    _NewRamUserFormSetBase = forms.BaseFormSet[NewRamUserForm]
else:
    _NewRamUserFormSetBase = forms.BaseFormSet


class BaseNewRamUserFormSet(_NewRamUserFormSetBase):
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = helper("OK")
        self.helper.form_tag = False  # the page's own form element: sent once, with a note when sent before

    @property
    def issues_password(self) -> bool:
        data = self.cleaned_data
        is_enabled: bool = data["is_enabled"]
        return is_enabled and data["password_mode"] in ("generate", "custom")

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("is_enabled") and data.get("password_mode") == "custom" and not data.get("password"):
            self.add_error("password", "Enter the custom password, or choose another option.")
        return data


class DeleteRamUserForm(forms.Form):
    confirm_name = forms.CharField(label="Type the user name to confirm", max_length=64)
    otp_code = OtpCodeField()

    def __init__(self, *args: Any, ram_user: RamUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ram_user = ram_user
        self.helper = helper("Delete", css_class="btn-danger")

    def clean_confirm_name(self) -> str:
        value: str = self.cleaned_data["confirm_name"]
        if value != self.ram_user.name:
            raise forms.ValidationError(f"Type {self.ram_user.name} exactly.")
        return value


NO_POLICY = ("", "Choose a policy…")


class AttachPolicyForm(forms.Form):
    """ "Add Permissions". The picker starts on no policy, so that a hurried click grants nothing, least of all
    AdministratorAccess (the first of the list); it offers the policies the user does not hold yet, while any system
    policy is accepted, so that one attached meanwhile is refused with the service's own words."""

    policy_name = forms.ChoiceField(
        label="Policy",
        choices=[NO_POLICY, *SYSTEM_POLICY_CHOICES],
        error_messages={
            "required": "Choose a policy to attach.",
            "invalid_choice": "Choose one of the system policies.",
        },
    )

    def __init__(self, *args: Any, attached: Collection[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        picker = self.fields["policy_name"].widget
        assert isinstance(picker, forms.Select)  # the ChoiceField's own widget
        picker.choices = [NO_POLICY, *(choice for choice in SYSTEM_POLICY_CHOICES if choice[0] not in attached)]
