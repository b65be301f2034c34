"""User groups: "Create Group", "Add Members", "Add Permissions", and their undoing. Each change is one transaction
that locks what it counts or checks (the group, then the user), so that two administrators at once cannot push a
user past its group limit, add a member to a group being deleted, or leave a right behind (the seed's p4_ lesson:
a group's project roles go with it)."""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import GROUP_NAME_RE, Group, GroupMembership, GroupPolicyAttachment, PrimaryAccount, RamUser
from accounts.permissions import ensure_can_write_ram, ensure_same_account
from accounts.policies import SYSTEM_POLICIES_BY_NAME
from accounts.services.ram_users import has_control_characters
from portal.audit import record_event


def group_target(group: Group) -> str:
    """How audit events name a group."""
    return f"group {group.name}"


def group_problems(*, name: str, display_name: str, comments: str) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    if not re.fullmatch(GROUP_NAME_RE, name or ""):
        problems["name"] = [_("Use 1–64 characters: letters, digits, periods (.), hyphens (-) and underscores (_).")]
    if has_control_characters(display_name):
        problems["display_name"] = [_("The display name must not contain line breaks or control characters.")]
    elif len(display_name or "") > 128:
        problems["display_name"] = [_("The display name must be at most 128 characters.")]
    if has_control_characters(comments):
        problems["comments"] = [_("Comments must not contain line breaks or control characters.")]
    elif len(comments or "") > 128:
        problems["comments"] = [_("Comments must be at most 128 characters.")]
    return problems


def _taken() -> ValidationError:
    return ValidationError(
        {"name": ValidationError(_("A group with this name already exists (names ignore case)."), code="group_taken")}
    )


def _ensure_same_account(actor: Actor, group: Group) -> None:
    if group.account_id != actor.account.pk:
        raise ValidationError(_("This group belongs to another account."), code="group_not_found")


def _locked(group: Group) -> Group:
    """The group's row, locked for the rest of the transaction; gone: a ValidationError."""
    locked = Group.objects.select_for_update().filter(pk=group.pk).first()
    if locked is None:
        raise ValidationError(_("The group %(name)s no longer exists.") % {"name": group.name}, code="group_not_found")
    return locked


def create_group(*, actor: Actor, name: str, display_name: str = "", comments: str = "") -> Group:
    ensure_can_write_ram(actor)
    problems = group_problems(name=name, display_name=display_name, comments=comments)
    if problems:
        raise ValidationError(problems)
    limit = settings.PORTAL_MAX_GROUPS
    try:
        with transaction.atomic():
            PrimaryAccount.objects.select_for_update().filter(pk=actor.account.pk).first()  # counts one at a time
            if Group.objects.filter(account=actor.account).count() >= limit:
                raise ValidationError(
                    _("An account can have at most %(limit)s groups.") % {"limit": limit},
                    code="group_limit",
                )
            group = Group.objects.create(
                account=actor.account, name=name, display_name=display_name.strip(), comments=comments
            )
            record_event(actor=actor, action="group.create", target=group_target(group))
    except IntegrityError:
        raise _taken() from None
    return group


def update_group(*, actor: Actor, group: Group, name: str, display_name: str, comments: str) -> Group:
    ensure_can_write_ram(actor)
    _ensure_same_account(actor, group)
    problems = group_problems(name=name, display_name=display_name, comments=comments)
    if problems:
        raise ValidationError(problems)
    changes = {
        field: value
        for field, value in {"name": name, "display_name": display_name.strip(), "comments": comments}.items()
        if getattr(group, field) != value
    }
    if not changes:
        return group
    try:
        with transaction.atomic():
            locked = _locked(group)
            old_target = group_target(locked)
            for field, value in changes.items():
                setattr(locked, field, value)
            locked.save()
            record_event(
                actor=actor,
                action="group.update",
                target=old_target,
                details={"changed": sorted(changes)} | ({"new_name": name} if "name" in changes else {}),
            )
    except IntegrityError:
        raise _taken() from None
    return locked


@dataclass(frozen=True)
class GroupRemoval:
    """What a group's deletion took with it."""

    members: list[str]
    policies: list[str]
    project_roles: list[str]


def delete_group(*, actor: Actor, group: Group, with_everything: bool = False) -> GroupRemoval:
    """Deletes the group. As RAM's API, refused while it has members or policies unless `with_everything` (the
    console's confirmed "Delete"), which removes them in the same transaction. The group's project roles always go
    with it: they were the group's and nobody else's."""
    ensure_can_write_ram(actor)
    _ensure_same_account(actor, group)
    with transaction.atomic():
        locked = _locked(group)
        members = sorted(locked.memberships.values_list("ram_user__name", flat=True))
        policies = sorted(locked.policy_attachments.values_list("policy_name", flat=True))
        if not with_everything and members:
            raise ValidationError(
                _("The group %(name)s still has members: remove them first.") % {"name": locked.name},
                code="group_has_members",
            )
        if not with_everything and policies:
            raise ValidationError(
                _("The group %(name)s still has policies: detach them first.") % {"name": locked.name},
                code="group_has_policies",
            )
        roles = sorted(
            f"{project}: {role}" for project, role in locked.project_roles.values_list("project__name", "role")
        )
        locked.project_roles.all().delete()
        locked.memberships.all().delete()
        locked.policy_attachments.all().delete()
        record_event(
            actor=actor,
            action="group.delete",
            target=group_target(locked),
            details={"removed_members": members, "detached_policies": policies, "revoked_project_roles": roles},
        )
        locked.delete()
    return GroupRemoval(members=members, policies=policies, project_roles=roles)


def add_to_group(*, actor: Actor, group: Group, ram_user: RamUser) -> GroupMembership:
    """ "Add Members" for one user; at most PORTAL_MAX_GROUPS_PER_USER groups per user."""
    added, _already = add_users_to_group(actor=actor, group=group, ram_users=[ram_user])
    if not added:
        raise ValidationError(
            {
                "ram_user": ValidationError(
                    _("%(user)s is already in %(group)s.") % {"user": ram_user.name, "group": group.name},
                    code="already_member",
                )
            }
        )
    return added[0]


def add_users_to_group(
    *, actor: Actor, group: Group, ram_users: Sequence[RamUser]
) -> tuple[list[GroupMembership], list[str]]:
    """ "Add Members": the users who were not in the group join it (all or, if one would pass its group limit,
    none); returns the new memberships and the names of those already in it."""
    ensure_can_write_ram(actor)
    _ensure_same_account(actor, group)
    for ram_user in ram_users:
        ensure_same_account(actor, ram_user)
    limit = settings.PORTAL_MAX_GROUPS_PER_USER
    with transaction.atomic():
        locked = _locked(group)
        ids = sorted({ram_user.pk for ram_user in ram_users})
        users = list(RamUser.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        if len(users) != len(ids):
            raise ValidationError({"ram_user": [_("A chosen user no longer exists.")]}, code="user_not_found")
        already = set(
            GroupMembership.objects.filter(group=locked, ram_user__in=users).values_list("ram_user", flat=True)
        )
        joining = [user for user in users if user.pk not in already]
        counts = _group_counts(joining)
        full = sorted(user.name for user in joining if counts.get(user.pk, 0) >= limit)
        if full:
            raise ValidationError(
                {
                    "ram_user": ValidationError(
                        _("A user can be in at most %(limit)s groups: %(users)s already is.")
                        % {"limit": limit, "users": ", ".join(full)},
                        code="user_group_limit",
                    )
                }
            )
        added = GroupMembership.objects.bulk_create(
            GroupMembership(group=locked, ram_user=user, added_by=actor.principal) for user in joining
        )
        for user in joining:
            record_event(actor=actor, action="group.member_add", target=user.principal, details={"group": locked.name})
    return added, sorted(user.name for user in users if user.pk in already)


def _group_counts(users: Sequence[RamUser]) -> dict[int, int]:
    rows = (
        GroupMembership.objects.filter(ram_user__in=users)
        .values("ram_user")
        .annotate(groups=Count("pk"))
        .values_list("ram_user", "groups")
    )
    return dict(rows)


def remove_from_group(*, actor: Actor, group: Group, ram_user: RamUser) -> None:
    """The user leaves the group, and with it every right the group gave it (they were never the user's rows)."""
    ensure_can_write_ram(actor)
    _ensure_same_account(actor, group)
    ensure_same_account(actor, ram_user)
    with transaction.atomic():
        locked = _locked(group)
        deleted, _by_model = GroupMembership.objects.filter(group=locked, ram_user=ram_user).delete()
        if not deleted:
            raise ValidationError(
                {
                    "ram_user": ValidationError(
                        _("%(user)s is not in %(group)s.") % {"user": ram_user.name, "group": locked.name},
                        code="not_member",
                    )
                }
            )
        record_event(
            actor=actor, action="group.member_remove", target=ram_user.principal, details={"group": locked.name}
        )


def attach_group_policy(*, actor: Actor, group: Group, policy_name: str) -> GroupPolicyAttachment:
    """ "Add Permissions": a system policy for every member of the group."""
    ensure_can_write_ram(actor)
    _ensure_same_account(actor, group)
    if policy_name not in SYSTEM_POLICIES_BY_NAME:
        raise ValidationError(
            {
                "policy_name": ValidationError(
                    _("There is no system policy named “%(policy)s”.") % {"policy": policy_name}, code="no_policy"
                )
            }
        )
    try:
        with transaction.atomic():
            locked = _locked(group)
            attachment = GroupPolicyAttachment.objects.create(
                group=locked, policy_name=policy_name, attached_by=actor.principal
            )
            record_event(
                actor=actor, action="group.policy_attach", target=group_target(locked), details={"policy": policy_name}
            )
    except IntegrityError:
        raise ValidationError(
            {
                "policy_name": ValidationError(
                    _("%(policy)s is already attached to this group.") % {"policy": policy_name}, code="attached"
                )
            }
        ) from None
    return attachment


def detach_group_policy(*, actor: Actor, group: Group, policy_name: str) -> None:
    ensure_can_write_ram(actor)
    _ensure_same_account(actor, group)
    with transaction.atomic():
        locked = _locked(group)
        deleted, _by_model = GroupPolicyAttachment.objects.filter(group=locked, policy_name=policy_name).delete()
        if not deleted:
            raise ValidationError(
                {
                    "policy_name": ValidationError(
                        _("%(policy)s is not attached to this group.") % {"policy": policy_name}, code="not_attached"
                    )
                }
            )
        record_event(
            actor=actor, action="group.policy_detach", target=group_target(locked), details={"policy": policy_name}
        )
