from typing import Any

from django import forms
from django.urls import reverse
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.forms import DeleteRamUserForm, UserSelectionForm, helper
from accounts.models import PrimaryAccount, RamUser, User
from projects.matrix import Role, role_label
from projects.models import Project, ProjectQuerySet


def _role_choice(role: Role) -> str:
    """ "role_project_dev (Developer)": the code, and what it is in the reader's language."""
    return _("%(code)s (%(label)s)") % {"code": role.value, "label": role_label(role)}


ROLE_CHOICES = [(role.value, lazy(_role_choice, str)(role)) for role in Role]
CANDIDATES_LIST_ID = "member-candidates"
USERS_LIST_ID = "check-users"


class CreateProjectForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Project name"),
        max_length=28,
        help_text=gettext_lazy(
            "3–28 characters: a letter first, then letters, digits and underscores (_). Unique; never changes."
        ),
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=256, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = helper(_("Create Project"))


class ProjectSettingsForm(forms.Form):
    """The settings the matrix reserves to the owner; a field whose row refuses the viewer is disabled."""

    ip_whitelist = forms.CharField(
        label=gettext_lazy("IP address whitelist"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Addresses or CIDR blocks, one per line or separated by commas. Empty: no restriction."),
    )
    is_full_table_scan_allowed = forms.BooleanField(label=gettext_lazy("Allow full table scan"), required=False)
    is_data_protection_on = forms.BooleanField(label=gettext_lazy("Data protection"), required=False)
    quota = forms.CharField(label=gettext_lazy("Quota group"), max_length=64)

    def __init__(self, *args: Any, project: Project, allowed_fields: set[str], **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "ip_whitelist": "\n".join(project.ip_whitelist),
                "is_full_table_scan_allowed": project.is_full_table_scan_allowed,
                "is_data_protection_on": project.is_data_protection_on,
                "quota": project.quota,
            },
        )
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.disabled = name not in allowed_fields
        self.helper = helper(_("OK"))
        self.helper.form_action = reverse("projects:update-project-settings", args=[project.pk])

    def clean_ip_whitelist(self) -> list[str]:
        raw: str = self.cleaned_data["ip_whitelist"]
        return [part for part in raw.replace(",", "\n").split() if part]


class AddMemberForm(forms.Form):
    ram_user = forms.CharField(
        label=gettext_lazy("RAM user"),
        max_length=200,
        help_text=gettext_lazy(
            "The user name (e.g. <code>alice</code>) of a RAM user of this account who is not a member yet."
        ),
    )
    roles = forms.MultipleChoiceField(
        label=gettext_lazy("Roles"), choices=ROLE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        self.fields["ram_user"].widget.attrs.update({"list": CANDIDATES_LIST_ID, "autocomplete": "off"})
        self.helper = helper(_("Add Member"))
        self.helper.form_action = reverse("projects:add-member", args=[project.pk])

    def clean_ram_user(self) -> RamUser:
        name = self.cleaned_data["ram_user"].strip().split("@")[0]
        ram_user = RamUser.objects.named(account=self.project.account, name=name)
        if ram_user is None:
            raise forms.ValidationError(_("This account has no RAM user named “%(name)s”.") % {"name": name})
        return ram_user


class MemberForm(forms.Form):
    """Names a member of the project in a row's small forms (remove)."""

    ram_user = forms.IntegerField(widget=forms.HiddenInput)


class MemberRoleForm(MemberForm):
    """Grants or revokes one role of a member."""

    role = forms.ChoiceField(label=gettext_lazy("Role"), choices=ROLE_CHOICES)


class CrossProjectForm(forms.Form):
    source = forms.ModelChoiceField(
        label=gettext_lazy("Project whose members may reach this one"),
        queryset=Project.objects.none(),
        empty_label=None,
    )

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        already = project.incoming_access.values("source")
        source = self.fields["source"]
        assert isinstance(source, forms.ModelChoiceField)  # the field declared above, as this form's copy
        source.queryset = Project.objects.for_account(project.account).exclude(pk=project.pk).exclude(pk__in=already)
        self.helper = helper(_("Authorise"), css_class="btn-outline-primary")
        self.helper.form_action = reverse("projects:authorize-cross-project", args=[project.pk])


class RevokeCrossProjectForm(forms.Form):
    source = forms.IntegerField(widget=forms.HiddenInput)


class DeleteProjectForm(forms.Form):
    confirm_name = forms.CharField(label=gettext_lazy("Type the project name to confirm"), max_length=28)

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project = project
        self.helper = helper(_("Delete"), css_class="btn-danger")

    def clean_confirm_name(self) -> str:
        value: str = self.cleaned_data["confirm_name"]
        if value != self.project.name:
            raise forms.ValidationError(_("Type %(name)s exactly.") % {"name": self.project.name})
        return value


class CheckPermissionsForm(forms.Form):
    user = forms.CharField(
        label=gettext_lazy("User"),
        max_length=200,
        help_text=gettext_lazy(
            "A RAM user's name (e.g. <code>alice</code>), or “<code>owner</code>” for the Alibaba Cloud account."
        ),
    )
    project = forms.ModelChoiceField(label=gettext_lazy("Project"), queryset=Project.objects.none(), empty_label=None)

    def __init__(self, *args: Any, account: PrimaryAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.projects = Project.objects.for_account(account)
        self.fields["user"].widget.attrs.update({"list": USERS_LIST_ID, "autocomplete": "off"})
        project = self.fields["project"]
        assert isinstance(project, forms.ModelChoiceField)  # the field declared above, as this form's copy
        project.queryset = self.projects
        self.helper = helper(_("Check"), css_class="btn-primary")
        self.helper.form_method = "get"
        self.helper.disable_csrf = True

    def clean_user(self) -> User:
        """The owner by "owner", its principal or email; a RAM user by name, logon name or principal."""
        value = self.cleaned_data["user"].strip()
        owner = self.account.owner
        assert owner.email is not None, "an owner signs in by email (accounts.services.primary_accounts)"
        if value.lower() in {"owner", self.account.principal.lower(), owner.email.lower()}:
            return owner
        name = value.removeprefix(f"RAM${self.account.account_id}:").split("@")[0]
        ram_user = RamUser.objects.named(account=self.account, name=name)
        if ram_user is None:
            raise forms.ValidationError(_("This account has no RAM user named “%(name)s”.") % {"name": name})
        return ram_user.user


class RevokeAndDeleteUserForm(DeleteRamUserForm):
    """The one action that leaves no orphan; its fields sit on the delete page beside the plain "Delete" form's,
    so its IDs differ while its field names stay the ones the action reads."""

    def __init__(self, *args: Any, ram_user: RamUser, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "revoke-%s")
        super().__init__(*args, ram_user=ram_user, **kwargs)
        self.fields["otp_code"].widget.attrs.pop("autofocus", None)
        self.helper = helper(_("Revoke all roles, leave every project and delete"), css_class="btn-danger")
        self.helper.form_action = reverse("projects:revoke-and-delete-user", args=[ram_user.pk])
        self.helper.inputs[0].id = "submit-id-revoke-and-delete"


class AddMembersInBulkForm(UserSelectionForm):
    """ "Add to project" for the Users table's selection: the project (one the administrator may see) and roles."""

    project = forms.TypedChoiceField(label=gettext_lazy("Project"), coerce=int, empty_value=None)
    roles = forms.MultipleChoiceField(
        label=gettext_lazy("Roles"), choices=ROLE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, account: PrimaryAccount, projects: ProjectQuerySet, **kwargs: Any) -> None:
        super().__init__(*args, account=account, **kwargs)
        self.projects = projects
        field = self.fields["project"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", _("Choose a project…")), *projects.order_by("name").values_list("pk", "name")]

    def chosen_project(self) -> Project:
        return self.projects.get(pk=self.cleaned_data["project"])


class GroupRolesForm(forms.Form):
    """A group's roles in a project (each member holds them there): the projects whose members the person may
    manage, and the roles to grant."""

    project = forms.ModelChoiceField(
        label=gettext_lazy("Project"), queryset=Project.objects.none(), empty_label=gettext_lazy("Choose a project…")
    )
    roles = forms.MultipleChoiceField(
        label=gettext_lazy("Roles"),
        choices=ROLE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one role.")},
    )

    def __init__(self, *args: Any, projects: ProjectQuerySet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        project_field = self.fields["project"]
        assert isinstance(project_field, forms.ModelChoiceField)
        project_field.queryset = projects.order_by("name")
