"""RAM actions on user groups ("Create Group", "Add Members", "Add Permissions") over accounts.services.groups, with
RAM's names, limits and error codes; and ListEntitiesForPolicy, which says who holds a policy, users and groups."""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet

from accounts.actors import Actor
from accounts.api.ram.policies import DEFAULT_VERSION, find_policy
from accounts.api.registry import (
    ApiError,
    Params,
    ResponseFields,
    action,
    error_code,
    find_user,
    iso,
    readable_user,
    require_reader,
    require_writer,
    translate,
)
from accounts.models import Group, GroupMembership, GroupPolicyAttachment, PolicyAttachment
from accounts.policies import SYSTEM_POLICIES_BY_NAME
from accounts.services import has_code
from accounts.services.groups import (
    add_to_group,
    attach_group_policy,
    create_group,
    delete_group,
    detach_group_policy,
    remove_from_group,
    update_group,
)

# A service's refusal code → RAM's error code and HTTP status.
REFUSALS = {
    "group_taken": ("EntityAlreadyExists.Group", 409),
    "group_limit": ("LimitExceeded.Group", 409),
    "user_group_limit": ("LimitExceeded.User.Group", 409),
    "already_member": ("EntityAlreadyExists.User.Group", 409),
    "not_member": ("EntityNotExist.User.Group", 404),
    "group_has_members": ("DeleteConflict.Group.User", 409),
    "group_has_policies": ("DeleteConflict.Group.Policy", 409),
    "attached": ("EntityAlreadyExists.Group.Policy", 409),
    "not_attached": ("EntityNotExist.Group.Policy", 404),
    "group_not_found": ("EntityNotExist.Group", 404),
}
FIELDS = {"name": "GroupName", "comments": "Comments", "display_name": "DisplayName", "policy_name": "PolicyName"}


def refused(error: ValidationError | PermissionDenied) -> ApiError:
    """A group service's refusal in RAM's words."""
    if isinstance(error, ValidationError):
        for code, (ram_code, status) in REFUSALS.items():
            if error_code(error) == code or has_code(error, code):
                return ApiError(ram_code, " ".join(error.messages), status)
    return translate(error, entity="Group", fields=FIELDS)


def find_group(actor: Actor, params: Params, field: str = "GroupName") -> Group:
    name = params.required(field)
    group = Group.objects.filter(account=actor.account, name__iexact=name).first()
    if group is None:
        raise ApiError("EntityNotExist.Group", f"The group does not exist: {name}.", 404)
    return group


def group_fields(group: Group) -> ResponseFields:
    return {
        "GroupId": str(group.pk),
        "GroupName": group.name,
        "DisplayName": group.display_name,
        "Comments": group.comments,
        "CreateDate": iso(group.created_at),
        "UpdateDate": iso(group.updated_at),
    }


def _paged[T: Model](
    params: Params, rows: QuerySet[T], name_field: str, name_of: Callable[[T], str]
) -> tuple[list[T], ResponseFields]:
    """A page of rows in name order (MaxItems of them, after the Marker's name), and IsTruncated / Marker."""
    max_items = params.integer("MaxItems", 100, low=1, high=1000)
    if params.get("Marker"):
        rows = rows.filter(**{f"{name_field}__gt": params.get("Marker")})
    page = list(rows[: max_items + 1])
    truncated = len(page) > max_items
    page = page[:max_items]
    return page, {"IsTruncated": truncated} | ({"Marker": name_of(page[-1])} if truncated else {})


@action("CreateGroup")
def create_group_action(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)
    try:
        group = create_group(
            actor=actor,
            name=params.required("GroupName"),
            display_name=params.get("DisplayName"),
            comments=params.get("Comments"),
        )
    except (PermissionDenied, ValidationError) as error:
        raise refused(error) from None
    return {"Group": group_fields(group)}


@action("GetGroup")
def get_group(actor: Actor, params: Params) -> ResponseFields:
    require_reader(actor)
    return {"Group": group_fields(find_group(actor, params))}


@action("UpdateGroup")
def update_group_action(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)
    group = find_group(actor, params)
    try:
        updated = update_group(
            actor=actor,
            group=group,
            name=params.get("NewGroupName") or group.name,
            display_name=params.get("NewDisplayName", group.display_name),
            comments=params.get("NewComments", group.comments),
        )
    except (PermissionDenied, ValidationError) as error:
        raise refused(error) from None
    return {"Group": group_fields(updated)}


@action("DeleteGroup")
def delete_group_action(actor: Actor, params: Params) -> ResponseFields:
    """As RAM: refused while the group has members or policies (DeleteConflict.Group.*); its project roles, which
    RAM does not know of, go with it."""
    require_writer(actor)
    try:
        delete_group(actor=actor, group=find_group(actor, params))
    except (PermissionDenied, ValidationError) as error:
        raise refused(error) from None
    return {}


@action("ListGroups")
def list_groups(actor: Actor, params: Params) -> ResponseFields:
    require_reader(actor)
    groups = Group.objects.filter(account=actor.account).order_by("name", "pk")
    page, paging = _paged(params, groups, "name", lambda group: group.name)
    return {**paging, "Groups": {"Group": [group_fields(group) for group in page]}}


@action("AddUserToGroup")
def add_user_to_group(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)
    group, ram_user = find_group(actor, params), find_user(actor, params)
    try:
        add_to_group(actor=actor, group=group, ram_user=ram_user)
    except (PermissionDenied, ValidationError) as error:
        raise refused(error) from None
    return {}


@action("RemoveUserFromGroup")
def remove_user_from_group(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)
    group, ram_user = find_group(actor, params), find_user(actor, params)
    try:
        remove_from_group(actor=actor, group=group, ram_user=ram_user)
    except (PermissionDenied, ValidationError) as error:
        raise refused(error) from None
    return {}


@action("ListGroupsForUser")
def list_groups_for_user(actor: Actor, params: Params) -> ResponseFields:
    """A user's groups: its own may be read by the user itself, as its policies may."""
    ram_user = readable_user(actor, params)
    memberships = GroupMembership.objects.filter(ram_user=ram_user).select_related("group").order_by("group__name")
    return {
        "Groups": {
            "Group": [
                {
                    "GroupId": str(membership.group.pk),
                    "GroupName": membership.group.name,
                    "DisplayName": membership.group.display_name,
                    "Comments": membership.group.comments,
                    "JoinDate": iso(membership.added_at),
                }
                for membership in memberships
            ]
        }
    }


@action("ListUsersForGroup")
def list_users_for_group(actor: Actor, params: Params) -> ResponseFields:
    require_reader(actor)
    group = find_group(actor, params)
    memberships = (
        GroupMembership.objects.filter(group=group).select_related("ram_user").order_by("ram_user__name", "pk")
    )
    page, paging = _paged(params, memberships, "ram_user__name", lambda membership: membership.ram_user.name)
    return {
        **paging,
        "Users": {
            "User": [
                {
                    "UserName": membership.ram_user.name,
                    "DisplayName": membership.ram_user.display_name,
                    "JoinDate": iso(membership.added_at),
                }
                for membership in page
            ]
        },
    }


@action("AttachPolicyToGroup")
def attach_policy_to_group(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)
    policy = find_policy(params)
    group = find_group(actor, params)
    try:
        attach_group_policy(actor=actor, group=group, policy_name=policy.name)
    except (PermissionDenied, ValidationError) as error:
        raise refused(error) from None
    return {}


@action("DetachPolicyFromGroup")
def detach_policy_from_group(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)
    policy = find_policy(params)
    group = find_group(actor, params)
    try:
        detach_group_policy(actor=actor, group=group, policy_name=policy.name)
    except (PermissionDenied, ValidationError) as error:
        raise refused(error) from None
    return {}


@action("ListPoliciesForGroup")
def list_policies_for_group(actor: Actor, params: Params) -> ResponseFields:
    require_reader(actor)
    group = find_group(actor, params)
    return {
        "Policies": {
            "Policy": [
                {
                    "PolicyName": attachment.policy_name,
                    "PolicyType": "System",
                    "Description": SYSTEM_POLICIES_BY_NAME[attachment.policy_name].description,
                    "DefaultVersion": DEFAULT_VERSION,
                    "AttachDate": iso(attachment.attached_at),
                }
                for attachment in group.policy_attachments.order_by("policy_name")
            ]
        }
    }


@action("ListEntitiesForPolicy")
def list_entities_for_policy(actor: Actor, params: Params) -> ResponseFields:
    """Who holds the policy: the users it is attached to and the groups it is attached to (whose members hold it
    through them); the portal has no roles."""
    require_reader(actor)
    policy = find_policy(params)
    users = (
        PolicyAttachment.objects.filter(ram_user__account=actor.account, policy_name=policy.name)
        .select_related("ram_user")
        .order_by("ram_user__name")
    )
    groups = (
        GroupPolicyAttachment.objects.filter(group__account=actor.account, policy_name=policy.name)
        .select_related("group")
        .order_by("group__name")
    )
    return {
        "Users": {
            "User": [
                {
                    "UserId": str(attachment.ram_user.pk),
                    "UserName": attachment.ram_user.name,
                    "DisplayName": attachment.ram_user.display_name,
                    "AttachDate": iso(attachment.attached_at),
                }
                for attachment in users
            ]
        },
        "Groups": {
            "Group": [
                {
                    "GroupName": attachment.group.name,
                    "Comments": attachment.group.comments,
                    "AttachDate": iso(attachment.attached_at),
                }
                for attachment in groups
            ]
        },
        "Roles": {"Role": []},
    }
