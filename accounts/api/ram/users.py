"""RAM actions on users: CreateUser, GetUser, UpdateUser, DeleteUser, ListUsers."""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError

from accounts.actors import Actor
from accounts.api.registry import (
    ApiError,
    Params,
    ResponseFields,
    action,
    find_user,
    iso,
    require_reader,
    require_writer,
    translate,
)
from accounts.models import RamUser
from accounts.services import has_code
from accounts.services.ram_users import (
    BatchRejected,
    DeleteConflict,
    NewRamUser,
    create_ram_users,
    delete_ram_user,
    update_ram_user,
)


def user_fields(ram_user: RamUser) -> ResponseFields:
    return {
        "UserId": str(ram_user.pk),
        "UserName": ram_user.name,
        "DisplayName": ram_user.display_name,
        "MobilePhone": ram_user.mobile_phone,
        "Email": ram_user.email,
        "Comments": ram_user.comments,
        "CreateDate": iso(ram_user.created_at),
        "UpdateDate": iso(ram_user.updated_at),
        "LastLoginDate": iso(ram_user.user.last_login),
    }


@action("CreateUser")
def create_user(actor: Actor, params: Params) -> ResponseFields:
    return {"User": user_fields(create_user_named(actor, params, params.required("UserName")))}


def create_user_named(actor: Actor, params: Params, name: str) -> RamUser:
    """CreateUser's work for RAM and IMS, which name the user differently."""
    require_writer(actor)
    new = NewRamUser(
        name=name,
        display_name=params.get("DisplayName") or name,
        email=params.get("Email"),
        mobile_phone=params.get("MobilePhone"),
        comments=params.get("Comments"),
    )
    try:
        [created] = create_ram_users(actor=actor, new_users=[new])
    except BatchRejected as rejection:
        if rejection.taken_rows:
            raise ApiError("EntityAlreadyExists.User", f"The user already exists: {new.name}.", 409) from None
        field, messages = next(iter(rejection.row_errors[0].items()))
        code = {"name": "UserName.InvalidChars"}.get(field, field.title().replace("_", ""))
        raise ApiError(f"InvalidParameter.{code}", " ".join(messages)) from None
    except (PermissionDenied, ValidationError) as error:
        if isinstance(error, ValidationError) and has_code(error, "name_taken"):  # created by a concurrent request
            raise ApiError("EntityAlreadyExists.User", f"The user already exists: {new.name}.", 409) from None
        raise translate(error) from None
    return created.ram_user


@action("GetUser")
def get_user(actor: Actor, params: Params) -> ResponseFields:
    require_reader(actor)
    return {"User": user_fields(find_user(actor, params))}


@action("UpdateUser")
def update_user(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)
    ram_user = find_user(actor, params)
    return {"User": user_fields(update_user_named(actor, params, ram_user, params.get("NewUserName") or ram_user.name))}


def update_user_named(actor: Actor, params: Params, ram_user: RamUser, new_name: str) -> RamUser:
    """UpdateUser's work for RAM and IMS (the caller has checked the right to write and found the user)."""
    try:
        return update_ram_user(
            actor=actor,
            ram_user=ram_user,
            name=new_name,
            display_name=params.get("NewDisplayName") or ram_user.display_name,
            email=params.get("NewEmail", ram_user.email),
            mobile_phone=params.get("NewMobilePhone", ram_user.mobile_phone),
            comments=params.get("NewComments", ram_user.comments),
        )
    except ValidationError as error:
        if has_code(error, "name_taken"):
            raise ApiError("EntityAlreadyExists.User", "The new user name is taken.", 409) from None
        raise translate(error) from None
    except PermissionDenied as error:
        raise translate(error) from None


@action("DeleteUser")
def delete_user(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)
    delete_found_user(actor, find_user(actor, params))
    return {}


def delete_found_user(actor: Actor, ram_user: RamUser) -> None:
    """DeleteUser's work for RAM and IMS (the caller has checked the right to write and found the user)."""
    if ram_user.user.has_usable_password() and ram_user.is_console_logon_enabled:
        raise ApiError("DeleteConflict.User.LoginProfile", "The user has a login profile; delete it first.", 409)
    if ram_user.group_memberships.exists():  # (the console's Delete takes the user out of its groups itself)
        raise ApiError("DeleteConflict.User.Group", "The user is in groups; remove it from them first.", 409)
    try:
        delete_ram_user(actor=actor, ram_user=ram_user, otp_code=None)
    except DeleteConflict as conflict:
        kind = "AccessKey" if any(b.startswith("AccessKey") for b in conflict.blockers) else "Project"
        raise ApiError(f"DeleteConflict.User.{kind}", str(conflict.message), 409) from None
    except (PermissionDenied, ValidationError) as error:
        raise translate(error) from None


@action("ListUsers")
def list_users(actor: Actor, params: Params) -> ResponseFields:
    return list_users_with(actor, params, user_fields)


def list_users_with(actor: Actor, params: Params, fields: Callable[[RamUser], ResponseFields]) -> ResponseFields:
    """ListUsers for RAM and IMS: pages of MaxItems in name order, the Marker the last name of the page before."""
    require_reader(actor)
    max_items = params.integer("MaxItems", 100, low=1, high=1000)
    marker = params.get("Marker")
    users = RamUser.objects.for_account(actor.account).select_related("user", "account").order_by("name", "pk")
    if marker:
        users = users.filter(name__gt=marker)
    page = list(users[: max_items + 1])
    truncated = len(page) > max_items
    page = page[:max_items]
    body: ResponseFields = {"IsTruncated": truncated, "Users": {"User": [fields(ram_user) for ram_user in page]}}
    if truncated:
        body["Marker"] = page[-1].name
    return body
