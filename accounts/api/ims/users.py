"""IMS actions on users, named by principal name (`<name>@<domain>`, either of the account's logon domains): the users
themselves, and their AccessKeys and login profiles as RAM's own actions with UserPrincipalName for UserName."""

from accounts.actors import Actor
from accounts.api.ram import access_keys, logon
from accounts.api.ram.users import (
    create_user_named,
    delete_found_user,
    list_users_with,
    update_user_named,
    user_fields,
)
from accounts.api.registry import (
    IMS_VERSION,
    ApiError,
    Handler,
    Params,
    ResponseFields,
    action,
    require_reader,
    require_writer,
)
from accounts.models import AccessKey, RamUser


def ims_user_fields(ram_user: RamUser) -> ResponseFields:
    return {**user_fields(ram_user), "UserPrincipalName": ram_user.logon_name, "ProvisionType": "Manual"}


def _name_in(actor: Actor, principal: str, parameter: str) -> str:
    """The user name of `<name>@<domain>`, the domain one of the account's own."""
    name, at, domain = principal.rpartition("@")
    account = actor.account
    domains = {account.default_domain.lower(), (account.alias_domain or "").lower()} - {""}
    if not at or not name or domain.lower() not in domains:
        raise ApiError(f"InvalidParameter.{parameter}", f"The {parameter} must be <user name>@{account.logon_domain}.")
    return name


def _the_caller_is_named(actor: Actor, params: Params) -> bool:
    """Whether the request names the calling RAM user itself (one's own entry is always readable)."""
    user = actor.user
    if user is None or user.is_owner:
        return False
    own = user.ram_user
    if params.get("UserPrincipalName"):
        return _name_in(actor, params.get("UserPrincipalName"), "UserPrincipalName").lower() == own.name.lower()
    if params.get("UserId"):
        return params.get("UserId") == str(own.pk)
    return AccessKey.objects.filter(access_key_id=params.get("UserAccessKeyId"), user=user).exists()


def _found(actor: Actor, params: Params, *, by_key: bool = False) -> RamUser:
    """The user named by UserPrincipalName, else by UserId (else, where allowed, by one of its AccessKey IDs)."""
    users = RamUser.objects.for_account(actor.account).select_related("user", "account")
    found: RamUser | None
    if params.get("UserPrincipalName"):
        found = RamUser.objects.named(
            account=actor.account, name=_name_in(actor, params.get("UserPrincipalName"), "UserPrincipalName")
        )
    elif params.get("UserId"):
        user_id = params.get("UserId")
        found = users.filter(pk=int(user_id)).first() if user_id.isdigit() and len(user_id) < 19 else None
    elif by_key and params.get("UserAccessKeyId"):
        found = users.filter(user__access_keys__access_key_id=params.get("UserAccessKeyId")).first()
    else:
        raise ApiError(
            "MissingParameter.UserPrincipalName",
            "The input parameter UserPrincipalName that is mandatory for processing this request is not supplied.",
        )
    if found is None:
        raise ApiError("EntityNotExist.User", "The user does not exist.", 404)
    return found


@action("CreateUser", version=IMS_VERSION)
def create_user(actor: Actor, params: Params) -> ResponseFields:
    name = _name_in(actor, params.required("UserPrincipalName"), "UserPrincipalName")
    return {"User": ims_user_fields(create_user_named(actor, params, name))}


@action("GetUser", version=IMS_VERSION)
def get_user(actor: Actor, params: Params) -> ResponseFields:
    if not _the_caller_is_named(actor, params):
        require_reader(actor)
    return {"User": ims_user_fields(_found(actor, params, by_key=True))}


@action("UpdateUser", version=IMS_VERSION)
def update_user(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)
    ram_user = _found(actor, params)
    new_principal = params.get("NewUserPrincipalName")
    new_name = _name_in(actor, new_principal, "NewUserPrincipalName") if new_principal else ram_user.name
    return {"User": ims_user_fields(update_user_named(actor, params, ram_user, new_name))}


@action("DeleteUser", version=IMS_VERSION)
def delete_user(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)
    delete_found_user(actor, _found(actor, params))
    return {}


@action("ListUsers", version=IMS_VERSION)
def list_users(actor: Actor, params: Params) -> ResponseFields:
    return list_users_with(actor, params, ims_user_fields)


# --- AccessKeys and login profiles: RAM's actions, the user named by principal name ----------------------------------


def _as_ram(actor: Actor, params: Params, *, user_required: bool, login_profile: bool) -> Params:
    """The request in RAM's names: UserPrincipalName (checked against the account's domains) becomes UserName."""
    values = dict(params.values)
    principal = values.pop("UserPrincipalName", "")
    if principal:
        values["UserName"] = _name_in(actor, principal, "UserPrincipalName")
    elif user_required:
        raise ApiError(
            "MissingParameter.UserPrincipalName",
            "The input parameter UserPrincipalName that is mandatory for processing this request is not supplied.",
        )
    if login_profile and values.pop("Status", "Active") != "Active":
        raise ApiError("InvalidParameter.Status", "A login profile is Active: DeleteLoginProfile turns logon off.")
    return Params(values)


def _principal_named(fields: ResponseFields, actor: Actor) -> ResponseFields:
    """A login profile as IMS answers it: the user by principal name."""
    profile = fields.get("LoginProfile")
    if isinstance(profile, dict):
        name = profile.pop("UserName")
        profile["UserPrincipalName"] = f"{name}@{actor.account.logon_domain}"
        profile["Status"] = "Active"
    return fields


def _via_ram(name: str, handler: Handler, *, login_profile: bool = False) -> None:
    """IMS's `name` as RAM's action `handler`; a login profile's actions need the user named."""

    def ims_action(actor: Actor, params: Params) -> ResponseFields:
        ram_params = _as_ram(actor, params, user_required=login_profile, login_profile=login_profile)
        return _principal_named(handler(actor, ram_params), actor)

    ims_action.__name__ = ims_action.__qualname__ = f"ims_{handler.__name__}"
    action(name, version=IMS_VERSION)(ims_action)


# Without UserPrincipalName, an AccessKey action is about the caller's own keys, as in RAM.
_via_ram("CreateAccessKey", access_keys.create_access_key)
_via_ram("ListAccessKeys", access_keys.list_access_keys)
_via_ram("UpdateAccessKey", access_keys.update_access_key)
_via_ram("DeleteAccessKey", access_keys.delete_access_key_action)
_via_ram("GetAccessKeyLastUsed", access_keys.get_access_key_last_used)
_via_ram("CreateLoginProfile", logon.create_login_profile, login_profile=True)
_via_ram("GetLoginProfile", logon.get_login_profile, login_profile=True)
_via_ram("UpdateLoginProfile", logon.update_login_profile, login_profile=True)
_via_ram("DeleteLoginProfile", logon.delete_login_profile, login_profile=True)
_via_ram("ChangePassword", logon.change_password)
