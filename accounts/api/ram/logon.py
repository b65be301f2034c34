"""RAM actions on console logon: the login profile ("Modify Logon Settings") and the caller's own password."""

from django.core.exceptions import PermissionDenied, ValidationError

from accounts.actors import Actor
from accounts.api.registry import (
    ApiError,
    Params,
    ResponseFields,
    action,
    find_user,
    iso,
    readable_user,
    require_writer,
    translate,
)
from accounts.models import RamUser
from accounts.services.logon import LogonChange, change_own_password, ensure_self_service, modify_logon_settings


def login_profile(ram_user: RamUser) -> ResponseFields:
    return {
        "UserName": ram_user.name,
        "PasswordResetRequired": ram_user.must_reset_password,
        "MFABindRequired": ram_user.must_bind_mfa,
        # The portal keeps no separate date for the profile: console logon always starts with a new password.
        "CreateDate": iso(ram_user.user.password_changed_at),
    }


def no_login_profile(ram_user: RamUser) -> ApiError:
    return ApiError("EntityNotExist.User.LoginProfile", f"The login profile of {ram_user.name} does not exist.", 404)


def _modify(actor: Actor, ram_user: RamUser, change: LogonChange) -> RamUser:
    try:
        modify_logon_settings(actor=actor, ram_user=ram_user, change=change)
    except (PermissionDenied, ValidationError) as error:
        raise translate(error, fields={"password": "Password"}) from None
    return RamUser.objects.select_related("user", "account").get(pk=ram_user.pk)


@action("CreateLoginProfile")
def create_login_profile(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)
    ram_user = find_user(actor, params)
    password = params.required("Password")
    change = LogonChange(
        is_enabled=True,
        new_password=password,
        must_reset_password=params.boolean("PasswordResetRequired", False),
        must_bind_mfa=params.boolean("MFABindRequired", False),
    )
    if ram_user.is_console_logon_enabled:
        raise ApiError(
            "EntityAlreadyExists.User.LoginProfile", f"The login profile of {ram_user.name} already exists.", 409
        )
    return {"LoginProfile": login_profile(_modify(actor, ram_user, change))}


@action("GetLoginProfile")
def get_login_profile(actor: Actor, params: Params) -> ResponseFields:
    ram_user = readable_user(actor, params)
    if not ram_user.is_console_logon_enabled:
        raise no_login_profile(ram_user)
    return {"LoginProfile": login_profile(ram_user)}


@action("UpdateLoginProfile")
def update_login_profile(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)
    ram_user = find_user(actor, params)
    change = LogonChange(
        is_enabled=True,
        new_password=params.get("Password") or None,
        must_reset_password=params.boolean("PasswordResetRequired", ram_user.must_reset_password),
        must_bind_mfa=params.boolean("MFABindRequired", ram_user.must_bind_mfa),
    )
    if not ram_user.is_console_logon_enabled:
        raise no_login_profile(ram_user)
    _modify(actor, ram_user, change)
    return {}


@action("DeleteLoginProfile")
def delete_login_profile(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)
    ram_user = find_user(actor, params)
    if not ram_user.is_console_logon_enabled:
        raise no_login_profile(ram_user)
    _modify(actor, ram_user, LogonChange(is_enabled=False))
    return {}


@action("ChangePassword")
def change_password(actor: Actor, params: Params) -> ResponseFields:
    """The calling RAM user's own console password, where the security settings allow it."""
    old_password = params.required("OldPassword")
    new_password = params.required("NewPassword")
    if actor.person.is_owner:
        raise ApiError(
            "NoPermission",
            "ChangePassword is for RAM users; the primary account changes its password in the console.",
            403,
        )
    ram_user = actor.person.ram_user
    try:
        ensure_self_service(actor, "allow_change_password")
        if not ram_user.is_console_logon_enabled:
            raise no_login_profile(ram_user)
        change_own_password(actor=actor, current_password=old_password, new_password=new_password)
    except (PermissionDenied, ValidationError) as error:
        raise translate(error, fields={"current_password": "OldPassword", "new_password": "NewPassword"}) from None
    return {}
