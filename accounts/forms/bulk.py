"""The Users table's bulk actions: which action, on which users (ticked, or all that match the filter)."""

from typing import Any

from django import forms
from django.conf import settings
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.forms.fields import FormTokenField, posted_ids
from accounts.forms.user_table import UserTableForm
from accounts.models import Group, PrimaryAccount, RamUser
from accounts.policies import SYSTEM_POLICY_CHOICES
from accounts.services.bulk import BULK_ACTION_LABELS, NEEDS_GROUP, NEEDS_POLICY, BulkAction
from accounts.user_table import users_table


class GroupChoiceField(forms.ModelChoiceField[Group]):
    """The account's groups, each as its model names it ("group data-eng"), in the page's language."""

    def label_from_instance(self, obj: Group) -> str:
        return _("group %(name)s") % {"name": obj.name}


class UserSelectionForm(forms.Form):
    """The users a bulk action is for: ticked on the Users table, or every one that matches its filter."""

    matching = forms.BooleanField(
        label=gettext_lazy("Every user that matches the filter, on every page"), required=False
    )
    filters = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    form_token = FormTokenField()

    def __init__(self, *args: Any, account: PrimaryAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.ram_users: list[RamUser] = []

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        limit = settings.PORTAL_MAX_USERS_PER_BULK_ACTION
        if data.get("matching"):
            table = UserTableForm(QueryDict(data.get("filters") or ""), account=self.account)
            chosen = users_table(self.account, table.filters())
        else:
            ids = posted_ids(self.data, "user", limit=limit + 1)
            chosen = RamUser.objects.for_account(self.account).filter(pk__in=ids)
        self.ram_users = list(chosen.select_related("account", "user").order_by("name")[: limit + 1])
        if not self.ram_users:
            raise forms.ValidationError(_("Select at least one user."))
        if len(self.ram_users) > limit:
            raise forms.ValidationError(
                _("A bulk action takes at most %(limit)s users at a time: narrow the filter or tick fewer users.")
                % {"limit": f"{limit:,}"}
            )
        return data


class BulkActionForm(UserSelectionForm):
    action = forms.ChoiceField(
        label=gettext_lazy("Action"), choices=[("", gettext_lazy("Choose an action…")), *BULK_ACTION_LABELS.items()]
    )
    policy = forms.ChoiceField(
        label=gettext_lazy("Policy"),
        required=False,
        choices=[("", gettext_lazy("Choose a policy…")), *SYSTEM_POLICY_CHOICES],
    )
    group = GroupChoiceField(
        label=gettext_lazy("Group"),
        required=False,
        queryset=Group.objects.none(),
        empty_label=gettext_lazy("Choose a group…"),
    )

    def __init__(self, *args: Any, account: PrimaryAccount, **kwargs: Any) -> None:
        super().__init__(*args, account=account, **kwargs)
        group_field = self.fields["group"]
        assert isinstance(group_field, forms.ModelChoiceField)
        group_field.queryset = Group.objects.filter(account=account).order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") in NEEDS_POLICY and not data.get("policy"):
            self.add_error("policy", _("Choose the policy."))
        if data.get("action") in NEEDS_GROUP and not data.get("group"):
            self.add_error("group", _("Choose the group."))
        return data

    @property
    def chosen_action(self) -> BulkAction:
        return BulkAction(self.cleaned_data["action"])
