"""Forms of user groups: "Create Group" (and editing it) and "Add Members"."""

import re
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MEMBER_NAMES_SPLIT = re.compile(r"[\s,;]+")


class GroupForm(forms.Form):
    """ "Create Group" and editing a group: RAM's fields (the service says what is wrong with them)."""

    name = forms.CharField(
        label=gettext_lazy("Group Name"),
        max_length=200,  # the service's rule (1 to 64 characters) gives the message
        help_text=gettext_lazy("1–64 characters: letters, digits, periods (.), hyphens (-) and underscores (_)."),
    )
    display_name = forms.CharField(label=gettext_lazy("Display Name"), max_length=200, required=False)
    comments = forms.CharField(label=gettext_lazy("Comments"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})


class AddMembersForm(forms.Form):
    """ "Add Members" by user name (several at once); picking from a filtered Users table is its bulk action."""

    user_names = forms.CharField(
        label=gettext_lazy("User names"),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text=gettext_lazy("One or more, separated by commas, spaces or lines."),
        max_length=20000,
    )

    def clean_user_names(self) -> list[str]:
        names = [name for name in MEMBER_NAMES_SPLIT.split(self.cleaned_data["user_names"]) if name]
        if not names:
            raise forms.ValidationError(_("Enter at least one user name."))
        if len(names) > 500:
            raise forms.ValidationError(_("Add at most 500 users at once (the Users table adds any number)."))
        return list(dict.fromkeys(names))
