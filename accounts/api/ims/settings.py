"""IMS actions on the account: the default domain ("Update default domain" is the enterprise alias:
`<alias>.<PORTAL_DOMAIN_SUFFIX>`), the security preference and password policy in IMS's names (RAM's actions' code),
and the account summary."""

from django.conf import settings
from django.db.models import Q

from accounts.actors import Actor
from accounts.api.ram.settings import (
    PASSWORD_POLICY_BOOLEANS,
    change_password_policy,
    change_security_preference,
    password_policy,
    security_preference,
    set_alias,
)
from accounts.api.registry import IMS_VERSION, ApiError, Params, ResponseFields, action, require_reader
from accounts.models import Authenticator, Group, PasswordPolicy, RamUser, SecuritySettings
from accounts.policies import SYSTEM_POLICIES


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
    """What the account holds and the portal's limits that apply to it (the portal has no roles)."""
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
            "Groups": Group.objects.filter(account=account).count(),
            "GroupsQuota": settings.PORTAL_MAX_GROUPS,
            "GroupsPerUserQuota": settings.PORTAL_MAX_GROUPS_PER_USER,
            "Roles": 0,
        }
    }
