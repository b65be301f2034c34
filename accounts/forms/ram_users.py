"""Forms of administering RAM users: Create User, Modify Logon Settings, AccessKeys, packets, policies."""

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts.forms.fields import FormTokenField, OtpCodeField, helper
from accounts.forms.sign_in import OtpForm
from accounts.models import RamUser
from accounts.policies import SYSTEM_POLICY_CHOICES

DELIVERY_CHOICES = [
    ("show", gettext_lazy("Show the secrets now (and print the delivery sheet from the page)")),
    ("seal", gettext_lazy("Seal them in a delivery packet, to print as PDF or email with a claim link later")),
]


def delivery_field() -> forms.ChoiceField:
    # Optional: a form posted without it (an older page, a script) shows the secrets, as before packets.
    return forms.ChoiceField(
        label=gettext_lazy("Deliver the new secrets"),
        choices=DELIVERY_CHOICES,
        initial="show",
        required=False,
        widget=forms.RadioSelect,
    )


def current_language() -> str:
    """The language of the page being answered (the administrator's), as settings.LANGUAGES names it."""
    try:
        return translation.get_supported_language_variant(translation.get_language() or settings.LANGUAGE_CODE)
    except LookupError:
        return str(settings.LANGUAGE_CODE)


class CreateUsersOptionsForm(forms.Form):
    """What applies to the whole "Create User" request."""

    # Each language named in itself (settings.LANGUAGES), as on the language picker.
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=settings.LANGUAGES,
        required=False,  # a form posted without it (an older page, a script): the administrator's, as offered
        error_messages={"invalid_choice": gettext_lazy("Choose one of the portal's languages.")},
        help_text=gettext_lazy("The language the portal speaks to the new users in; each of them can change it later."),
    )
    deliver = delivery_field()
    otp_code = OtpCodeField(
        required=False,
        help_text=gettext_lazy("Needed when a user gets an AccessKey: the code from your authenticator app."),
    )
    form_token = FormTokenField()

    def __init__(self, *args: Any, needs_otp: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["otp_code"].widget.attrs.pop("autofocus", None)
        if needs_otp:
            self.fields["otp_code"].required = True
        self.fields["language"].initial = current_language()

    def clean_language(self) -> str:
        language: str = self.cleaned_data.get("language") or ""
        return language or current_language()


class IssueSecretWithOtpForm(OtpForm):
    """A code-checked form that issues a secret shown once: the primary account's or one's own AccessKey, new
    backup codes."""

    form_token = FormTokenField()


class CreateAccessKeyForm(IssueSecretWithOtpForm):
    deliver = delivery_field()


class EmailPacketForm(forms.Form):
    packet = forms.IntegerField(label=gettext_lazy("Packet"))
    to = forms.EmailField(label=gettext_lazy("Send to"), max_length=254)


class NewRamUserForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("User name"), max_length=64)
    display_name = forms.CharField(label=gettext_lazy("Display name"), max_length=128)
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254, required=False)
    mobile_phone = forms.CharField(label=gettext_lazy("Mobile phone"), max_length=32, required=False)
    comments = forms.CharField(label=gettext_lazy("Comments"), max_length=128, required=False)
    console_logon = forms.BooleanField(label=gettext_lazy("Console Password Logon"), required=False)
    password_mode = forms.ChoiceField(
        label=gettext_lazy("Password"),
        choices=[
            ("generate", gettext_lazy("Automatically generate a password")),
            ("custom", gettext_lazy("Custom password")),
            ("invite", gettext_lazy("Invite by email: the person chooses a password")),
        ],
        initial="generate",
        widget=forms.RadioSelect,
        required=False,
    )
    password = forms.CharField(
        label=gettext_lazy("Custom password"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    must_reset_password = forms.BooleanField(
        label=gettext_lazy("Require password reset at next logon"), required=False, initial=True
    )
    must_bind_mfa = forms.BooleanField(label=gettext_lazy("Require MFA at next logon"), required=False)
    create_access_key = forms.BooleanField(label=gettext_lazy("Create AccessKey (programmatic access)"), required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("console_logon") and data.get("password_mode") == "custom" and not data.get("password"):
            self.add_error("password", _("Enter the custom password, or choose to generate one."))
        inviting = data.get("console_logon") and data.get("password_mode") == "invite"
        # (Unless the address itself was refused: its own error says why.)
        if inviting and not data.get("email") and "email" not in self.errors:
            self.add_error("email", _("Enter the email address the invitation goes to."))
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


NO_LANGUAGE = ("", gettext_lazy("Not chosen (the language of the user's browser)"))


class EditRamUserForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("User name"), max_length=64)
    display_name = forms.CharField(label=gettext_lazy("Display name"), max_length=128)
    email = forms.EmailField(label=gettext_lazy("Email"), max_length=254, required=False)
    mobile_phone = forms.CharField(label=gettext_lazy("Mobile phone"), max_length=32, required=False)
    comments = forms.CharField(label=gettext_lazy("Comments"), max_length=128, required=False)
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=[NO_LANGUAGE, *settings.LANGUAGES],  # each language named in itself
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Choose one of the portal's languages.")},
        help_text=gettext_lazy("The language the portal speaks to the user in; the user can change it too."),
    )

    def clean_language(self) -> str | None:
        """The language chosen ("" for none); None when the form was posted without the field (an older page, a
        script): the user's language stays as it is."""
        if self.add_prefix("language") not in self.data:
            return None
        language: str = self.cleaned_data["language"]
        return language


class LogonSettingsForm(forms.Form):
    is_enabled = forms.TypedChoiceField(
        label=gettext_lazy("Console Password Logon"),
        choices=[("1", pgettext_lazy("console logon", "Enable")), ("0", pgettext_lazy("console logon", "Disable"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    password_mode = forms.ChoiceField(
        label=gettext_lazy("Password"),
        choices=[
            ("keep", gettext_lazy("Keep the current password")),
            ("generate", gettext_lazy("Automatically generate a password")),
            ("custom", gettext_lazy("Custom password")),
        ],
        initial="keep",
        widget=forms.RadioSelect,
    )
    password = forms.CharField(
        label=gettext_lazy("Custom password"),
        strip=False,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    must_reset_password = forms.BooleanField(label=gettext_lazy("Require password reset at next logon"), required=False)
    must_bind_mfa = forms.BooleanField(label=gettext_lazy("Require MFA at next logon"), required=False)
    deliver = delivery_field()
    form_token = FormTokenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = helper(_("OK"))
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
            self.add_error("password", _("Enter the custom password, or choose another option."))
        return data


class DeleteRamUserForm(forms.Form):
    confirm_name = forms.CharField(label=gettext_lazy("Type the user name to confirm"), max_length=64)
    otp_code = OtpCodeField()

    def __init__(self, *args: Any, ram_user: RamUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ram_user = ram_user
        self.helper = helper(_("Delete"), css_class="btn-danger")

    def clean_confirm_name(self) -> str:
        value: str = self.cleaned_data["confirm_name"]
        if value != self.ram_user.name:
            raise forms.ValidationError(_("Type %(name)s exactly.") % {"name": self.ram_user.name})
        return value


NO_POLICY = ("", gettext_lazy("Choose a policy…"))


class AttachPolicyForm(forms.Form):
    """ "Add Permissions". The picker starts on no policy, so that a hurried click grants nothing, least of all
    AdministratorAccess (the first of the list); it offers the policies the user does not hold yet, while any system
    policy is accepted, so that one attached meanwhile is refused with the service's own words."""

    policy_name = forms.ChoiceField(
        label=gettext_lazy("Policy"),
        choices=[NO_POLICY, *SYSTEM_POLICY_CHOICES],
        error_messages={
            "required": gettext_lazy("Choose a policy to attach."),
            "invalid_choice": gettext_lazy("Choose one of the system policies."),
        },
    )

    def __init__(self, *args: Any, attached: Collection[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        picker = self.fields["policy_name"].widget
        assert isinstance(picker, forms.Select)  # the ChoiceField's own widget
        picker.choices = [NO_POLICY, *(choice for choice in SYSTEM_POLICY_CHOICES if choice[0] not in attached)]
