"""The Groups pages: the list, "Create Group", a group's page ("Add Members", "Add Permissions"), editing and
deleting it. A group's project roles are the projects app's (its tag on the group page, its views)."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_POST

from accounts.forms import (
    AddMembersForm,
    AttachPolicyForm,
    ConfirmForm,
    GroupForm,
    add_errors,
    confirmation_page,
    posted,
)
from accounts.gates import SignedInRequest, actor_of, ram_reader_required, ram_writer_required
from accounts.models import Group, GroupMembership, GroupPolicyAttachment, RamUser
from accounts.permissions import can_write_ram
from accounts.policies import SYSTEM_POLICIES, SYSTEM_POLICIES_BY_NAME
from accounts.services import has_code
from accounts.services.groups import (
    add_users_to_group,
    attach_group_policy,
    create_group,
    delete_group,
    detach_group_policy,
    group_target,
    remove_from_group,
    update_group,
)
from portal.models import AuditEvent

# A "Create Group" whose name turns out taken by a group this person created moments ago with the same fields is
# the same submission arriving twice (a double click, a resent form): it goes to that group's page.
SAME_SUBMISSION_WINDOW = timedelta(minutes=2)


def groups_of(request: SignedInRequest) -> QuerySet[Group]:
    return Group.objects.filter(account=request.user.account)


def group_or_404(request: SignedInRequest, pk: int) -> Group:
    # The account filter makes a foreign account's ID answer exactly like a missing one.
    return get_object_or_404(groups_of(request), pk=pk)


@ram_reader_required
def group_list(request: SignedInRequest) -> HttpResponse:
    groups = (
        groups_of(request)
        .annotate(member_count=Count("memberships", distinct=True))
        .prefetch_related(
            Prefetch("policy_attachments", queryset=GroupPolicyAttachment.objects.order_by("policy_name"))
        )
        .order_by("name")
    )
    return render(request, "accounts/group_list.html", {"groups": groups, "can_write": can_write_ram(request.user)})


def _repeated_creation(request: SignedInRequest, form: GroupForm) -> Group | None:
    data = form.cleaned_data
    group = groups_of(request).filter(name__iexact=data["name"]).first()
    if group is None or (group.display_name, group.comments) != (data["display_name"].strip(), data["comments"]):
        return None
    recent = AuditEvent.objects.filter(
        account_id=request.user.account.account_id,
        action="group.create",
        target=group_target(group),
        actor=actor_of(request).principal,
        occurred_at__gte=timezone.now() - SAME_SUBMISSION_WINDOW,
    )
    return group if recent.exists() else None


@ram_writer_required
def create_group_view(request: SignedInRequest) -> HttpResponse:
    """ "Create Group"; then the group's page, to add members and permissions."""
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = create_group(actor=actor_of(request), **form.cleaned_data)
        except ValidationError as error:
            repeated = _repeated_creation(request, form) if has_code(error, "group_taken") else None
            if repeated is None:
                add_errors(form, error)
                return render(request, "accounts/group_form.html", {"form": form, "group": None})
            group = repeated
        messages.success(request, _("The group %(name)s was created.") % {"name": group.name})
        return redirect("accounts:group-detail", group_pk=group.pk)
    return render(request, "accounts/group_form.html", {"form": form, "group": None})


def group_page(
    request: SignedInRequest,
    group: Group,
    *,
    members_form: AddMembersForm | None = None,
    policy_form: AttachPolicyForm | None = None,
) -> HttpResponse:
    attached = set(group.policy_attachments.values_list("policy_name", flat=True))
    memberships = (
        GroupMembership.objects.filter(group=group).select_related("ram_user__account").order_by("ram_user__name")
    )
    return render(
        request,
        "accounts/group_detail.html",
        {
            "group": group,
            "memberships": memberships,
            "policies": group.policy_attachments.order_by("policy_name"),
            "descriptions": {policy.name: policy.description for policy in SYSTEM_POLICIES},
            "members_form": members_form or AddMembersForm(),
            "policy_form": policy_form or AttachPolicyForm(attached=attached),
            "can_attach": len(attached) < len(SYSTEM_POLICIES),
            "can_write": can_write_ram(request.user),
        },
    )


@ram_reader_required
def group_detail(request: SignedInRequest, group_pk: int) -> HttpResponse:
    return group_page(request, group_or_404(request, group_pk))


@ram_writer_required
def edit_group(request: SignedInRequest, group_pk: int) -> HttpResponse:
    group = group_or_404(request, group_pk)
    initial = {"name": group.name, "display_name": group.display_name, "comments": group.comments}
    form = GroupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            update_group(actor=actor_of(request), group=group, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The group was updated."))
            return redirect("accounts:group-detail", group_pk=group.pk)
    return render(request, "accounts/group_form.html", {"form": form, "group": group})


@ram_writer_required
def delete_group_view(request: SignedInRequest, group_pk: int) -> HttpResponse:
    """ "Delete": says what goes with the group (its members leave it, its policies and project roles are revoked
    from them), then removes everything in one transaction."""
    group = group_or_404(request, group_pk)
    form = ConfirmForm(posted(request), expected=group.name)
    if form.is_valid():
        try:
            delete_group(actor=actor_of(request), group=group, with_everything=True)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("accounts:group-list")
        messages.success(request, _("The group %(name)s was deleted.") % {"name": group.name})
        return redirect("accounts:group-list")
    members = group.memberships.count()
    policies = sorted(group.policy_attachments.values_list("policy_name", flat=True))
    roles = group.project_roles.count()
    return confirmation_page(
        request,
        form,
        title=_("Delete the group %(name)s") % {"name": group.name},
        consequences=[
            ngettext(
                "Its %(count)s member leaves the group; the users themselves stay.",
                "Its %(count)s members leave the group; the users themselves stay.",
                members,
            )
            % {"count": members}
            if members
            else _("The group has no members."),
            format_html(_("They lose what its policies allowed: <strong>{}</strong>."), ", ".join(policies))
            if policies
            else _("It has no policies."),
            ngettext(
                "Its %(count)s project role is revoked with it.",
                "Its %(count)s project roles are revoked with it.",
                roles,
            )
            % {"count": roles}
            if roles
            else _("It holds no project roles."),
        ],
        submit_label=_("Delete"),
        cancel_url=reverse("accounts:group-detail", args=[group.pk]),
    )


@ram_writer_required
@require_POST
def add_group_members(request: SignedInRequest, group_pk: int) -> HttpResponse:
    """ "Add Members" by name: all of them join, or none (an unknown name or a full user says which)."""
    group = group_or_404(request, group_pk)
    form = AddMembersForm(request.POST)
    if form.is_valid():
        names = form.cleaned_data["user_names"]
        found = {user.name.lower(): user for user in RamUser.objects.for_account(group.account).filter(name__in=names)}
        if len(found) < len(names):  # (a name typed in other case: looked up again ignoring case)
            for name in names:
                if name.lower() not in found:
                    user = RamUser.objects.named(account=group.account, name=name)
                    if user is not None:
                        found[name.lower()] = user
        unknown = [name for name in names if name.lower() not in found]
        if unknown:
            form.add_error("user_names", _("No RAM user is named %(names)s.") % {"names": ", ".join(unknown)})
        else:
            try:
                added, already = add_users_to_group(
                    actor=actor_of(request), group=group, ram_users=[found[name.lower()] for name in names]
                )
            except ValidationError as error:
                add_errors(form, ValidationError({"user_names": error.messages}))
            else:
                if added:
                    names = ", ".join(membership.ram_user.name for membership in added)
                    messages.success(
                        request, _("Added to %(group)s: %(users)s.") % {"group": group.name, "users": names}
                    )
                if already:
                    names = ", ".join(already)
                    messages.info(
                        request, _("Already in %(group)s: %(users)s.") % {"group": group.name, "users": names}
                    )
                return redirect("accounts:group-detail", group_pk=group.pk)
    return group_page(request, group, members_form=form)


@ram_writer_required
def remove_group_member(request: SignedInRequest, group_pk: int, user_pk: int) -> HttpResponse:
    group = group_or_404(request, group_pk)
    membership = get_object_or_404(
        GroupMembership.objects.select_related("ram_user__account"), group=group, ram_user=user_pk
    )
    ram_user = membership.ram_user
    form = ConfirmForm(posted(request), expected=ram_user.name)
    if form.is_valid():
        try:
            remove_from_group(actor=actor_of(request), group=group, ram_user=ram_user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("%(user)s was removed from %(group)s.") % {"user": ram_user.name, "group": group.name}
            )
        return redirect("accounts:group-detail", group_pk=group.pk)
    policies = sorted(group.policy_attachments.values_list("policy_name", flat=True))
    return confirmation_page(
        request,
        form,
        title=_("Remove %(user)s from %(group)s") % {"user": ram_user.name, "group": group.name},
        consequences=[
            format_html(
                _(
                    "<code>{principal}</code> loses, at once, what it held only through this group: "
                    "<strong>{policies}</strong> and the group's project roles"
                ),
                principal=ram_user.principal,
                policies=", ".join(policies),
            )
            if policies
            else format_html(
                _(
                    "<code>{principal}</code> loses, at once, what it held only through this group "
                    "(the group's project roles)"
                ),
                principal=ram_user.principal,
            ),
            _("Its own policies and roles, and those of its other groups, stay."),
        ],
        submit_label=_("Remove"),
        cancel_url=reverse("accounts:group-detail", args=[group.pk]),
    )


@ram_writer_required
@require_POST
def attach_group_policy_view(request: SignedInRequest, group_pk: int) -> HttpResponse:
    """ "Add Permissions" to the group: every member holds the policy."""
    group = group_or_404(request, group_pk)
    attached = set(group.policy_attachments.values_list("policy_name", flat=True))
    form = AttachPolicyForm(request.POST, attached=attached)
    if form.is_valid():
        try:
            attach_group_policy(actor=actor_of(request), group=group, policy_name=form.cleaned_data["policy_name"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("%(policy)s was attached to %(group)s.")
                % {"policy": form.cleaned_data["policy_name"], "group": group.name},
            )
            return redirect("accounts:group-detail", group_pk=group.pk)
    return group_page(request, group, policy_form=form)


@ram_writer_required
def detach_group_policy_view(request: SignedInRequest, group_pk: int, policy_name: str) -> HttpResponse:
    group = group_or_404(request, group_pk)
    form = ConfirmForm(posted(request), expected=policy_name)
    if form.is_valid():
        try:
            detach_group_policy(actor=actor_of(request), group=group, policy_name=policy_name)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("%(policy)s was detached from %(group)s.") % {"policy": policy_name, "group": group.name}
            )
        return redirect("accounts:group-detail", group_pk=group.pk)
    policy = SYSTEM_POLICIES_BY_NAME.get(policy_name)
    members = group.memberships.count()
    return confirmation_page(
        request,
        form,
        title=_("Revoke %(policy)s from the group %(group)s") % {"policy": policy_name, "group": group.name},
        consequences=[
            format_html(
                ngettext(
                    "Its {count} member loses what <strong>{policy}</strong> allows, unless they hold it themselves "
                    "or through another group: {description}",
                    "Its {count} members lose what <strong>{policy}</strong> allows, unless they hold it themselves "
                    "or through another group: {description}",
                    members,
                ),
                count=members,
                policy=policy_name,
                description=policy.description,
            )
            if policy
            else format_html(
                ngettext(
                    "Its {count} member loses what <strong>{policy}</strong> allows, unless they hold it themselves "
                    "or through another group.",
                    "Its {count} members lose what <strong>{policy}</strong> allows, unless they hold it themselves "
                    "or through another group.",
                    members,
                ),
                count=members,
                policy=policy_name,
            ),
        ],
        submit_label=pgettext("detach a policy", "Revoke"),
        cancel_url=reverse("accounts:group-detail", args=[group.pk]),
    )


@ram_writer_required
@require_POST
def add_user_to_group_view(request: SignedInRequest, pk: int) -> HttpResponse:
    """ "Add to Group" on a user's page: the user joins the chosen group."""
    ram_user = get_object_or_404(RamUser.objects.for_account(request.user.account), pk=pk)
    group_id = request.POST.get("group", "")
    group = groups_of(request).filter(pk=int(group_id)).first() if group_id.isdigit() and len(group_id) < 19 else None
    if group is None:
        messages.error(request, _("Choose one of the account's groups."))
    else:
        try:
            added, _already = add_users_to_group(actor=actor_of(request), group=group, ram_users=[ram_user])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if added:
                messages.success(
                    request, _("%(user)s was added to %(group)s.") % {"user": ram_user.name, "group": group.name}
                )
            else:
                messages.info(
                    request, _("%(user)s is already in %(group)s.") % {"user": ram_user.name, "group": group.name}
                )
    return redirect("accounts:user-detail", pk=ram_user.pk)
