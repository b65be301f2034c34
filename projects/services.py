"""Projects, members and roles. Every change is decided by `check_permission` on the actor's channel."""

import ipaddress
import re
from collections.abc import Iterable, Sequence
from typing import TypedDict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from accounts.actors import Actor
from accounts.models import Group, RamUser
from accounts.permissions import ensure_can_write_ram, ensure_same_account
from accounts.services.bulk import Outcome, for_each_user
from accounts.services.groups import group_target
from accounts.services.otp import require_otp
from accounts.services.ram_users import delete_ram_user
from portal.audit import record_event
from projects.matrix import Channel, Role, listed
from projects.models import PROJECT_NAME_RE, CrossProjectAccess, GroupRoleGrant, Project, ProjectMember, RoleGrant
from projects.permissions import check_permission

MAX_IP_WHITELIST = 100


def ensure_allowed(actor: Actor, project: Project | None, operation: str, *, channel: Channel | None = None) -> None:
    """Refuses with the matrix's reason. Operators on the server act for the owner.

    The row of the actor's own channel decides, unless `channel` names another: the MaxCompute commands that take
    permissions away are judged by the console's row (the mapping is data, in projects/odps_commands.py)."""
    if project is not None and project.account_id != actor.account.pk:
        raise PermissionDenied(_("This project belongs to another account."))
    if actor.user is None:
        return
    if channel is None:
        channel = Channel.API if actor.origin.channel == "api" else Channel.CONSOLE
    decision = check_permission(actor.user, project, operation, channel)
    if not decision:
        raise PermissionDenied(decision.reason)


def project_name_problems(name: str) -> list[str]:
    if not re.fullmatch(PROJECT_NAME_RE, name or ""):
        return [_("Use 3–28 characters: a letter first, then letters, digits and underscores (_).")]
    if Project.objects.filter(name__iexact=name).exists():
        return [_("A project with this name already exists.")]
    return []


def create_project(*, actor: Actor, name: str, description: str = "") -> Project:
    """A new project owned by the primary account (for good). A RAM user who creates one (by the
    AliyunDataWorksFullAccess policy) becomes its project administrator, so that it can see and run what it made."""
    name = (name or "").strip()
    problems = project_name_problems(name)
    if problems:
        raise ValidationError({"name": problems})
    if len(description or "") > 256:
        raise ValidationError({"description": [_("The description must be at most 256 characters.")]})
    ensure_allowed(actor, None, "project_create_delete")
    try:
        with transaction.atomic():
            project = Project.objects.create(
                account=actor.account, name=name, description=description or "", created_by=actor.principal
            )
            details: dict[str, object] = {"description": description}
            if actor.user is not None and not actor.user.is_owner:
                creator = ProjectMember.objects.create(
                    project=project, ram_user=actor.user.ram_user, added_by=actor.principal
                )
                RoleGrant.objects.create(member=creator, role=Role.ADMIN, granted_by=actor.principal)
                details["creator_roles"] = [Role.ADMIN.value]
            record_event(actor=actor, action="project.create", target=name, details=details)
    except IntegrityError:
        raise ValidationError({"name": [_("A project with this name already exists.")]}) from None
    return project


def delete_project(*, actor: Actor, project: Project) -> None:
    """Deletes the project with its members and their roles, in one transaction."""
    ensure_allowed(actor, project, "project_create_delete")
    with transaction.atomic():
        members = list(project.members.select_related("ram_user"))
        groups = sorted({grant.group.name for grant in project.group_roles.select_related("group")})
        RoleGrant.objects.filter(member__project=project).delete()
        project.group_roles.all().delete()
        project.members.all().delete()
        record_event(
            actor=actor,
            action="project.delete",
            target=project.name,
            details={"removed_members": sorted(member.ram_user.principal for member in members)}
            | ({"removed_groups": groups} if groups else {}),
        )
        project.delete()


def normalise_ip_whitelist(entries: list[str]) -> list[str]:
    cleaned = []
    for entry in filter(None, (raw.strip() for raw in entries)):
        try:
            cleaned.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            raise ValidationError(
                {"ip_whitelist": [_("“%(entry)s” is not an IP address or CIDR block.") % {"entry": entry}]}
            ) from None
    cleaned = list(dict.fromkeys(cleaned))
    if len(cleaned) > MAX_IP_WHITELIST:
        raise ValidationError({"ip_whitelist": [_("Enter at most %(limit)s entries.") % {"limit": MAX_IP_WHITELIST}]})
    return cleaned


class ProjectSettings(TypedDict, total=False):
    """The settings the matrix reserves to the owner, each one a field of `Project`; any of them may be given."""

    ip_whitelist: list[str]
    is_full_table_scan_allowed: bool
    is_data_protection_on: bool
    quota: str


SETTING_OPERATIONS = {
    "ip_whitelist": "ip_whitelist",
    "is_full_table_scan_allowed": "full_table_scan",
    "is_data_protection_on": "data_protection",
    "quota": "quota_change",
}


def update_project_settings(*, actor: Actor, project: Project, values: ProjectSettings) -> Project:
    """The settings the matrix reserves to the owner; each changed one is checked against its own row."""
    if "ip_whitelist" in values:
        values = {**values, "ip_whitelist": normalise_ip_whitelist(values["ip_whitelist"])}
    if "quota" in values and not (values["quota"] or "").strip():
        raise ValidationError({"quota": [_("Enter the quota group.")]})
    changed = {field: value for field, value in values.items() if getattr(project, field) != value}
    for field in changed:
        ensure_allowed(actor, project, SETTING_OPERATIONS[field])
    if not changed:
        return project
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        # Each changed setting with its value before and after (none is a secret): the trail says what changed.
        before_after = {field: {"before": getattr(locked, field), "after": value} for field, value in changed.items()}
        for field, value in changed.items():
            setattr(locked, field, value)
        locked.save()
        record_event(actor=actor, action="project.settings", target=project.name, details={"changed": before_after})
    return locked


def _member_or_none(project: Project, ram_user: RamUser) -> ProjectMember | None:
    return ProjectMember.objects.filter(project=project, ram_user=ram_user).first()


def add_member(*, actor: Actor, project: Project, ram_user: RamUser, roles: Sequence[str] = ()) -> ProjectMember:
    """ "Add Member": a RAM user of the same account joins, with the given roles."""
    ensure_allowed(actor, project, "member_management")
    ensure_same_account(actor, ram_user)
    roles = _valid_roles(roles)
    try:
        with transaction.atomic():
            member = ProjectMember.objects.create(project=project, ram_user=ram_user, added_by=actor.principal)
            RoleGrant.objects.bulk_create(
                RoleGrant(member=member, role=role, granted_by=actor.principal) for role in roles
            )
            record_event(
                actor=actor,
                action="project.member_add",
                target=ram_user.principal,
                details={"project": project.name, "roles": roles},
            )
    except IntegrityError:
        raise ValidationError(
            {
                "ram_user": [
                    _("%(user)s is already a member of %(project)s.") % {"user": ram_user.name, "project": project.name}
                ]
            }
        ) from None
    return member


def _valid_roles(roles: Iterable[str]) -> list[str]:
    unknown = sorted(set(roles) - {role.value for role in Role})
    if unknown:
        raise ValidationError({"roles": [_("Unknown role: %(roles)s.") % {"roles": listed(unknown)}]})
    return sorted(set(roles))


def grant_roles(*, actor: Actor, project: Project, ram_user: RamUser, roles: list[str]) -> list[str]:
    """Grants roles to a member; returns the ones newly granted."""
    ensure_allowed(actor, project, "member_management")
    roles = _valid_roles(roles)
    with transaction.atomic():
        member = _locked_member(project, ram_user)
        new = [role for role in roles if not member.roles.filter(role=role).exists()]
        RoleGrant.objects.bulk_create(RoleGrant(member=member, role=role, granted_by=actor.principal) for role in new)
        if new:
            record_event(
                actor=actor,
                action="project.role_grant",
                target=ram_user.principal,
                details={"project": project.name, "roles": new},
            )
    return new


def revoke_roles(
    *, actor: Actor, project: Project, ram_user: RamUser, roles: list[str], decided_on: Channel | None = None
) -> list[str]:
    """ "Revoke": takes roles from a member; returns the ones it held. `decided_on`: see `ensure_allowed` (only the
    services that take permissions away accept it, so no caller can widen who may give them)."""
    ensure_allowed(actor, project, "member_management", channel=decided_on)
    roles = _valid_roles(roles)
    with transaction.atomic():
        member = _locked_member(project, ram_user)
        held = sorted(member.roles.filter(role__in=roles).values_list("role", flat=True))
        member.roles.filter(role__in=roles).delete()
        if held:
            record_event(
                actor=actor,
                action="project.role_revoke",
                target=ram_user.principal,
                details={"project": project.name, "roles": held},
            )
    return held


def grant_group_roles(*, actor: Actor, project: Project, group: Group, roles: list[str]) -> list[str]:
    """A group's roles in a project, which each of its members then holds there; returns the ones newly granted."""
    ensure_allowed(actor, project, "member_management")
    if group.account_id != project.account_id:
        raise ValidationError({"group": [_("The group belongs to another account.")]})
    roles = _valid_roles(roles)
    if not roles:
        raise ValidationError({"roles": [_("Choose at least one role.")]})
    with transaction.atomic():
        locked = Group.objects.select_for_update().filter(pk=group.pk).first()  # not while it is being deleted
        if locked is None:
            raise ValidationError({"group": [_("The group %(name)s no longer exists.") % {"name": group.name}]})
        held = set(GroupRoleGrant.objects.filter(project=project, group=locked).values_list("role", flat=True))
        new = [role for role in roles if role not in held]
        GroupRoleGrant.objects.bulk_create(
            GroupRoleGrant(project=project, group=locked, role=role, granted_by=actor.principal) for role in new
        )
        if new:
            record_event(
                actor=actor,
                action="project.group_role_grant",
                target=group_target(locked),
                details={"project": project.name, "roles": new},
            )
    return new


def revoke_group_roles(*, actor: Actor, project: Project, group: Group, roles: list[str]) -> list[str]:
    """Takes roles from a group in a project (from all its members at once); returns the ones it held."""
    ensure_allowed(actor, project, "member_management")
    roles = _valid_roles(roles)
    with transaction.atomic():
        grants = GroupRoleGrant.objects.filter(project=project, group=group, role__in=roles)
        held = sorted(grants.values_list("role", flat=True))
        grants.delete()
        if held:
            record_event(
                actor=actor,
                action="project.group_role_revoke",
                target=group_target(group),
                details={"project": project.name, "roles": held},
            )
    return held


def _locked_member(project: Project, ram_user: RamUser) -> ProjectMember:
    member = ProjectMember.objects.select_for_update().filter(project=project, ram_user=ram_user).first()
    if member is None:
        raise ValidationError(
            {
                "ram_user": [
                    _("%(user)s is not a member of %(project)s.") % {"user": ram_user.name, "project": project.name}
                ]
            }
        )
    return member


def remove_member(*, actor: Actor, project: Project, ram_user: RamUser, decided_on: Channel | None = None) -> None:
    """Removes a member whose roles have all been revoked, as the seed requires. `decided_on`: as `revoke_roles`."""
    ensure_allowed(actor, project, "member_management", channel=decided_on)
    with transaction.atomic():
        member = _locked_member(project, ram_user)
        try:
            member.delete()
        except ProtectedError:
            roles = listed(member.roles.values_list("role", flat=True))
            raise ValidationError(
                _("Revoke the roles of %(principal)s (%(roles)s) before removing it from %(project)s.")
                % {"principal": ram_user.principal, "roles": roles, "project": project.name}
            ) from None
        record_event(
            actor=actor, action="project.member_remove", target=ram_user.principal, details={"project": project.name}
        )


def authorize_cross_project(*, actor: Actor, source: Project, target: Project) -> CrossProjectAccess:
    """Only the owner lets the members of one project reach another."""
    _ensure_owner_of(actor, source, target)
    if source.pk == target.pk:
        raise ValidationError({"target": [_("Choose another project.")]})
    try:
        with transaction.atomic():
            access = CrossProjectAccess.objects.create(source=source, target=target, granted_by=actor.principal)
            record_event(
                actor=actor, action="project.cross_access_grant", target=target.name, details={"from": source.name}
            )
    except IntegrityError:
        raise ValidationError(
            {"target": [_("%(source)s can already reach %(target)s.") % {"source": source.name, "target": target.name}]}
        ) from None
    return access


def revoke_cross_project(*, actor: Actor, source: Project, target: Project) -> None:
    _ensure_owner_of(actor, source, target)
    with transaction.atomic():
        deleted, _by_model = CrossProjectAccess.objects.filter(source=source, target=target).delete()
        if deleted:
            record_event(
                actor=actor, action="project.cross_access_revoke", target=target.name, details={"from": source.name}
            )


def _ensure_owner_of(actor: Actor, *projects: Project) -> None:
    if any(project.account_id != actor.account.pk for project in projects):
        raise PermissionDenied(_("This project belongs to another account."))
    if actor.user is not None and not actor.user.is_owner:
        raise PermissionDenied(_("Only the Alibaba Cloud account (the owner) authorises cross-project access."))


def memberships_of(ram_user: RamUser) -> list[tuple[Project, list[str]]]:
    """The projects the user is a member of, with its roles in each."""
    members = ProjectMember.objects.filter(ram_user=ram_user).select_related("project").prefetch_related("roles")
    return [(member.project, [grant.role for grant in member.roles.all()]) for member in members]


def revoke_everything_and_delete_user(*, actor: Actor, ram_user: RamUser, otp_code: str | None) -> list[str]:
    """The one action that leaves no orphan: revoke every role, leave every project, delete the user, all in
    one transaction. The code is checked first, on its own, so that a wrong one still counts."""
    ensure_can_write_ram(actor)
    ensure_same_account(actor, ram_user)
    proof = require_otp(actor=actor, otp_code=otp_code)
    with transaction.atomic():
        members = list(ProjectMember.objects.select_for_update().filter(ram_user=ram_user).select_related("project"))
        removed = []
        for member in members:
            roles = sorted(member.roles.values_list("role", flat=True))
            member.roles.all().delete()
            member.delete()
            removed.append(f"{member.project.name}: {', '.join(roles) or 'no roles'}")
        record_event(
            actor=actor,
            action="project.member_remove_all",
            target=ram_user.principal,
            details={"removed": removed},
        )
        delete_ram_user(actor=actor, ram_user=ram_user, otp_code=None, with_access_keys=True, otp_proof=proof)
    return removed


def add_members_in_bulk(
    *, actor: Actor, project: Project, ram_users: Sequence[RamUser], roles: Sequence[str] = ()
) -> list[Outcome]:
    """ "Add to project" for many users: "Add Member" for each, each in its own transaction; a user who is a member
    already (or any other refusal) is reported and the others still join."""
    ensure_allowed(actor, project, "member_management")
    roles = _valid_roles(roles)
    # What each user's line of the report says, in the administrator's language (the report shows it as it is).
    if roles:
        joined = _("Joined %(project)s as %(roles)s.") % {
            "project": project.name,
            "roles": listed(roles),
        }
    else:
        joined = _("Joined %(project)s with no role.") % {"project": project.name}

    def join(ram_user: RamUser) -> str:
        add_member(actor=actor, project=project, ram_user=ram_user, roles=roles)
        return joined

    return for_each_user(actor=actor, ram_users=ram_users, step=join)
