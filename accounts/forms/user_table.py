"""The Users table's search, filters and sort, as they arrive in the query string."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from accounts.models import PrimaryAccount
from accounts.policies import SYSTEM_POLICY_CHOICES
from accounts.user_table import SORTS, UserFilters

ANY = ("", gettext_lazy("Any"))
YES_NO = {"yes": True, "no": False}


def _yes_no(label: StrOrPromise, yes: StrOrPromise, no: StrOrPromise) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, required=False, choices=[ANY, ("yes", yes), ("no", no)])


class UserTableForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search users"), required=False, max_length=128, strip=True)
    console_logon = _yes_no(gettext_lazy("Console logon"), gettext_lazy("Enabled"), gettext_lazy("Disabled"))
    mfa = _yes_no("MFA", gettext_lazy("Bound"), gettext_lazy("Not bound"))
    access_keys = _yes_no(gettext_lazy("AccessKeys"), gettext_lazy("Has AccessKeys"), gettext_lazy("No AccessKeys"))
    policy = forms.ChoiceField(label=gettext_lazy("Policy"), required=False, choices=[ANY, *SYSTEM_POLICY_CHOICES])
    project = forms.TypedChoiceField(label=gettext_lazy("Project"), required=False, coerce=int, empty_value=None)
    locked = _yes_no(gettext_lazy("Sign-in"), gettext_lazy("Locked out"), gettext_lazy("Not locked"))
    sort = forms.ChoiceField(
        label=gettext_lazy("Sort by"),
        required=False,
        choices=[(key, key) for key in SORTS] + [(f"-{key}", f"-{key}") for key in SORTS],
    )

    def __init__(self, *args: Any, account: PrimaryAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        project = self.fields["project"]
        assert isinstance(project, forms.TypedChoiceField)
        project.choices = [ANY, *account.projects.order_by("name").values_list("pk", "name")]

    def filters(self) -> UserFilters:
        """What the valid part of the query string asks for: a value that is not one of the choices is reported
        by the form and left out, so the table still shows (unfiltered by it) beside the error."""
        data = (
            self.cleaned_data
            if self.is_valid()
            else {name: value for name, value in getattr(self, "cleaned_data", {}).items() if name not in self.errors}
        )
        sort = data.get("sort") or "name"
        return UserFilters(
            search=data.get("q") or "",
            console_logon=YES_NO.get(data.get("console_logon") or ""),
            mfa=YES_NO.get(data.get("mfa") or ""),
            access_keys=YES_NO.get(data.get("access_keys") or ""),
            policy=data.get("policy") or "",
            project_id=data.get("project"),
            locked=YES_NO.get(data.get("locked") or ""),
            sort=sort.removeprefix("-"),
            descending=sort.startswith("-"),
        )
