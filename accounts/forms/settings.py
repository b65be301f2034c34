"""Forms of the account's settings: security settings, password policy, enterprise alias, audit filters."""

from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts.audit_text import action_choices
from accounts.forms.fields import OtpCodeField, helper
from accounts.models import PasswordPolicy, SecuritySettings
from accounts.services.alias import alias_problems
from accounts.services.security import PASSWORD_POLICY_FIELDS

if TYPE_CHECKING:
    # django-stubs makes ModelForm generic in its model; Django's own class takes no type arguments at run time.
    _SecuritySettingsModelForm = forms.ModelForm[SecuritySettings]
    _PasswordPolicyModelForm = forms.ModelForm[PasswordPolicy]
else:
    _SecuritySettingsModelForm = _PasswordPolicyModelForm = forms.ModelForm


class SecuritySettingsForm(_SecuritySettingsModelForm):
    logon_ip_masks = forms.CharField(
        label=gettext_lazy("Logon IP masks"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Up to 40 addresses or CIDR blocks, one per line or separated by commas. "
            "Empty: sign-in from anywhere. They restrict console sign-in, not API calls."
        ),
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
            "allow_change_password": gettext_lazy("Allow users to change their password"),
            "allow_manage_access_keys": gettext_lazy("Manage AccessKey: allow users to manage their own AccessKeys"),
            "allow_manage_mfa": gettext_lazy("Allow users to manage their MFA devices"),
            "remember_mfa_for_7_days": gettext_lazy("Remember MFA for 7 days"),
            "session_hours": gettext_lazy("Logon session duration (hours, 1–24)"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["session_hours"].widget.attrs.update({"min": 1, "max": 24})
        if not self.is_bound:
            self.initial["logon_ip_masks"] = "\n".join(self.instance.logon_ip_masks)
        self.helper = helper(_("Update RAM User Security Settings"))

    def clean_logon_ip_masks(self) -> list[str]:
        raw: str = self.cleaned_data["logon_ip_masks"]
        return [part for part in raw.replace(",", "\n").split() if part]


class PasswordPolicyForm(_PasswordPolicyModelForm):
    otp_code = OtpCodeField()

    class Meta:
        model = PasswordPolicy
        fields = list(PASSWORD_POLICY_FIELDS)  # what the service changes, no more
        labels = {
            "minimum_length": gettext_lazy("Minimum length (8–32)"),
            "require_lowercase": gettext_lazy("Require lowercase letters"),
            "require_uppercase": gettext_lazy("Require uppercase letters"),
            "require_numbers": gettext_lazy("Require digits"),
            "require_symbols": gettext_lazy("Require symbols"),
            "max_age_days": gettext_lazy("Maximum password age in days (0–1095; 0 = never expires)"),
            "reuse_prevention": gettext_lazy("Prevent reuse of the last N passwords (0–24)"),
            "max_failed_attempts": gettext_lazy("Lock for one hour after this many failed sign-ins (0–32; 0 = never)"),
            "hard_expiry": gettext_lazy("Block sign-in when the password has expired"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = helper(_("OK"))


class AuditFilterForm(forms.Form):
    # The known actions, projects' included: they register when their app is ready, so the list is read per form.
    action = forms.ChoiceField(label=gettext_lazy("Action"), required=False, choices=action_choices)
    actor = forms.CharField(
        label=gettext_lazy("Actor"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("user name or principal")}),
    )
    target = forms.CharField(
        label=gettext_lazy("Target"),
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("user name, principal, project")}),
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"),
        required=False,
        choices=[
            ("", pgettext_lazy("any channel", "Any")),
            ("console", gettext_lazy("Console")),
            ("api", gettext_lazy("API")),
            ("command", gettext_lazy("Operator command")),
        ],
    )
    since = forms.DateField(
        label=gettext_lazy("From (UTC)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("To (UTC)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end of the range is before its start."))
        return cleaned


class EnterpriseAliasForm(forms.Form):
    alias = forms.CharField(
        label=gettext_lazy("Enterprise alias"),
        widget=forms.TextInput(attrs={"maxlength": 50, "autocomplete": "off", "autofocus": True}),
    )
    otp_code = OtpCodeField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["alias"].help_text = _(
            "3–50 lowercase letters, digits and single hyphens, not starting or ending with a hyphen. "
            "RAM users then sign in as, for example, alice@your-alias.%(suffix)s."
        ) % {"suffix": settings.PORTAL_DOMAIN_SUFFIX}
        self.fields["otp_code"].widget.attrs.pop("autofocus", None)
        self.helper = helper(_("OK"))

    def clean_alias(self) -> str:
        alias: str = self.cleaned_data["alias"].strip().lower()
        problems = alias_problems(alias)
        if problems:
            raise forms.ValidationError(problems)
        return alias


class ClearEnterpriseAliasForm(forms.Form):
    otp_code = OtpCodeField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "clear")  # its code field sits on the page beside the alias form's
        super().__init__(*args, **kwargs)
        self.fields["otp_code"].widget.attrs.pop("autofocus", None)
        self.helper = helper(_("Clear alias"), css_class="btn-outline-danger")
        self.helper.inputs[0].id = "submit-id-clear"  # unique beside the alias form's button
        self.helper.form_action = "accounts:clear-enterprise-alias"
