"""IMS (2019-08-15), the RAM console's own API generation, on the same endpoint: the default domain ("Update default
domain" is the enterprise alias: `<alias>.<PORTAL_DOMAIN_SUFFIX>`) and users by principal name (`<name>@<domain>`,
either of the account's logon domains), over the same services and rules as RAM's actions."""

import base64

from django.conf import settings
from django.db.models import Q

from accounts.actors import Actor
from accounts.api import keys, logon
from accounts.api.actions import (
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
    iso,
    require_reader,
    require_writer,
)
from accounts.api.settings import (
    PASSWORD_POLICY_BOOLEANS,
    change_password_policy,
    change_security_preference,
    password_policy,
    security_preference,
    set_alias,
)
from accounts.models import AccessKey, Authenticator, CredentialReport, PasswordPolicy, RamUser, SecuritySettings
from accounts.policies import SYSTEM_POLICIES
from accounts.services.credential_report import generate_credential_report


@action("GetDefaultDomain", version=IMS_VERSION)
def get_default_domain(actor: Actor, params: Params) -> ResponseFields:
    require_reader(actor)
    return {"DefaultDomainName": actor.account.logon_domain}


@action("SetDefaultDomain", version=IMS_VERSION)
def set_default_domain(actor: Actor, params: Params) -> ResponseFields:
    domain = params.required("DefaultDomainName")
    suffix = f".{settings.PORTAL_DOMAIN_SUFFIX}"
    alias = domain[: -len(suffix)] if domain.lower().endswith(suffix.lower()) else ""
    if not alias:
        raise ApiError(
            "InvalidParameter.DefaultDomainName",
            f"The default domain name must be <alias>{suffix}, the alias being 3 to 32 letters, digits or hyphens.",
        )
    return {"DefaultDomainName": set_alias(actor, alias, parameter="DefaultDomainName").logon_domain}


# --- Users by principal name ----------------------------------------------------------------------------------------


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


# --- Security preference and password policy, in IMS's names ---------------------------------------------------------

# IMS calls RAM's HardExpiry HardExpire; the rest of the password policy has the same names.
IMS_PASSWORD_POLICY_BOOLEANS = {
    ("HardExpire" if parameter == "HardExpiry" else parameter): field
    for parameter, field in PASSWORD_POLICY_BOOLEANS.items()
}
# IMS settings the portal does not have: asked to set one, it says so rather than pretend.
UNSUPPORTED = {
    "SetPasswordPolicy": (
        "InitialPasswordAge",
        "MinimumPasswordDifferentCharacter",
        "PasswordNotContainUserName",
        "InterceptRiskPasswordOnApi",
    ),
    "SetSecurityPreference": (
        "AllowUserToLoginWithPasskey",
        "AllowUserToManagePersonalDingTalk",
        "AllowUserToManageServiceCredentials",
        "MFAOperationForLogin",
        "OperationForRiskLogin",
        "VerificationTypes",
        "MaxIdleDaysForAccessKeys",
        "MaxIdleDaysForUsers",
    ),
}


def _refuse_unsupported(action_name: str, params: Params) -> None:
    for parameter in UNSUPPORTED[action_name]:
        if params.get(parameter):
            raise ApiError(f"InvalidParameter.{parameter}", f"The portal has no setting {parameter}.")


def _ims_security_preference(settings: SecuritySettings) -> ResponseFields:
    answer = security_preference(settings)
    preference = answer["SecurityPreference"]
    assert isinstance(preference, dict)
    del preference["PublicKeyPreference"]  # not in IMS
    return answer


@action("GetSecurityPreference", version=IMS_VERSION)
def get_security_preference(actor: Actor, params: Params) -> ResponseFields:
    require_reader(actor)
    return _ims_security_preference(SecuritySettings.objects.get(account=actor.account))


@action("SetSecurityPreference", version=IMS_VERSION)
def set_security_preference(actor: Actor, params: Params) -> ResponseFields:
    _refuse_unsupported("SetSecurityPreference", params)
    return _ims_security_preference(change_security_preference(actor, params))


@action("GetPasswordPolicy", version=IMS_VERSION)
def get_password_policy(actor: Actor, params: Params) -> ResponseFields:
    require_reader(actor)
    return password_policy(PasswordPolicy.objects.get(account=actor.account), IMS_PASSWORD_POLICY_BOOLEANS)


@action("SetPasswordPolicy", version=IMS_VERSION)
def set_password_policy(actor: Actor, params: Params) -> ResponseFields:
    _refuse_unsupported("SetPasswordPolicy", params)
    policy = change_password_policy(actor, params, IMS_PASSWORD_POLICY_BOOLEANS)
    return password_policy(policy, IMS_PASSWORD_POLICY_BOOLEANS)


@action("GetAccountSummary", version=IMS_VERSION)
def get_account_summary(actor: Actor, params: Params) -> ResponseFields:
    """What the account holds and the portal's limits that apply to it (the portal has no groups or roles yet)."""
    require_reader(actor)
    account = actor.account
    devices = Authenticator.objects.filter(Q(user__ram_user__account=account) | Q(user__owned_account=account))
    return {
        "SummaryMap": {
            "Users": RamUser.objects.for_account(account).count(),
            "MFADevices": devices.count(),
            "MFADevicesInUse": devices.filter(confirmed=True).count(),
            "AccessKeysPerUserQuota": settings.PORTAL_MAX_ACCESS_KEYS_PER_USER,
            "Policies": len(SYSTEM_POLICIES),
            "AttachedSystemPoliciesPerUserQuota": len(SYSTEM_POLICIES),
            "Groups": 0,
            "Roles": 0,
        }
    }


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
_via_ram("CreateAccessKey", keys.create_access_key)
_via_ram("ListAccessKeys", keys.list_access_keys)
_via_ram("UpdateAccessKey", keys.update_access_key)
_via_ram("DeleteAccessKey", keys.delete_access_key_action)
_via_ram("GetAccessKeyLastUsed", keys.get_access_key_last_used)
_via_ram("CreateLoginProfile", logon.create_login_profile, login_profile=True)
_via_ram("GetLoginProfile", logon.get_login_profile, login_profile=True)
_via_ram("UpdateLoginProfile", logon.update_login_profile, login_profile=True)
_via_ram("DeleteLoginProfile", logon.delete_login_profile, login_profile=True)
_via_ram("ChangePassword", logon.change_password)


# --- The credential report -------------------------------------------------------------------------------------------


@action("GenerateCredentialReport", version=IMS_VERSION)
def generate_credential_report_action(actor: Actor, params: Params) -> ResponseFields:
    require_writer(actor)  # a new report is a change (audited); reading it needs read access only
    generate_credential_report(actor=actor)
    return {"State": "COMPLETE"}  # made in this request: small enough at the portal's sizes (a query per table)


@action("GetCredentialReport", version=IMS_VERSION)
def get_credential_report(actor: Actor, params: Params) -> ResponseFields:
    """The report as base64 CSV; MaxItems rows a page (the header on every page), NextToken where the next starts."""
    require_reader(actor)
    report = CredentialReport.objects.filter(account=actor.account).first()
    if report is None:
        raise ApiError(
            "EntityNotExist.CredentialReport", "The credential report does not exist: GenerateCredentialReport.", 404
        )
    header, *rows = report.content.splitlines(keepends=True)
    max_items = params.integer("MaxItems", len(rows) or 1, low=1, high=1000 if rows else 1)
    token = params.get("NextToken", "0")
    if not token.isdigit() or int(token) > len(rows):
        raise ApiError("InvalidParameter.NextToken", "The NextToken is not one this report gave.")
    start = int(token)
    page = rows[start : start + max_items]
    body: ResponseFields = {
        "Content": base64.b64encode((header + "".join(page)).encode()).decode(),
        "GeneratedTime": iso(report.generated_at),
        "IsTruncated": start + max_items < len(rows),
    }
    if body["IsTruncated"]:
        body["NextToken"] = str(start + max_items)
    return body
