"""The Users table's bulk actions: which action, on which users (ticked, or all that match the filter)."""

from typing import Any

from django import forms
from django.conf import settings
from django.http import QueryDict

from accounts.forms.fields import FormTokenField, posted_ids
from accounts.forms.user_table import UserTableForm
from accounts.models import Group, PrimaryAccount, RamUser
from accounts.policies import SYSTEM_POLICY_CHOICES
from accounts.services.bulk import BULK_ACTION_LABELS, NEEDS_GROUP, NEEDS_POLICY, BulkAction
from accounts.user_table import users_table


class UserSelectionForm(forms.Form):
    """The users a bulk action is for: ticked on the Users table, or every one that matches its filter."""

    matching = forms.BooleanField(label="Every user that matches the filter, on every page", required=False)
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
            raise forms.ValidationError("Select at least one user.")
        if len(self.ram_users) > limit:
            raise forms.ValidationError(
                f"A bulk action takes at most {limit:,} users at a time: narrow the filter or tick fewer users."
            )
        return data


class BulkActionForm(UserSelectionForm):
    action = forms.ChoiceField(label="Action", choices=[("", "Choose an action…"), *BULK_ACTION_LABELS.items()])
    policy = forms.ChoiceField(
        label="Policy", required=False, choices=[("", "Choose a policy…"), *SYSTEM_POLICY_CHOICES]
    )
    group = forms.ModelChoiceField(
        label="Group", required=False, queryset=Group.objects.none(), empty_label="Choose a group…"
    )

    def __init__(self, *args: Any, account: PrimaryAccount, **kwargs: Any) -> None:
        super().__init__(*args, account=account, **kwargs)
        group_field = self.fields["group"]
        assert isinstance(group_field, forms.ModelChoiceField)
        group_field.queryset = Group.objects.filter(account=account).order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") in NEEDS_POLICY and not data.get("policy"):
            self.add_error("policy", "Choose the policy.")
        if data.get("action") in NEEDS_GROUP and not data.get("group"):
            self.add_error("group", "Choose the group.")
        return data

    @property
    def chosen_action(self) -> BulkAction:
        return BulkAction(self.cleaned_data["action"])
