"""RAM actions on account-wide settings: the enterprise alias, the security preference, the password policy."""

from django.core.exceptions import PermissionDenied, ValidationError

from accounts.actors import Actor
from accounts.api.registry import ApiError, Params, ResponseFields, action, require_reader, translate
from accounts.models import PasswordPolicy, PrimaryAccount, SecuritySettings
from accounts.services.alias import ALIAS_TAKEN, clear_enterprise_alias, set_enterprise_alias
from accounts.services.security import update_password_policy, update_security_settings

# RAM's parameter → the portal's field.
SECURITY_PREFERENCE_BOOLEANS = {
    "AllowUserToChangePassword": "allow_change_password",
    "AllowUserToManageAccessKeys": "allow_manage_access_keys",
    "AllowUserToManageMFADevices": "allow_manage_mfa",
    "EnableSaveMFATicket": "remember_mfa_for_7_days",
}
SECURITY_PREFERENCE_FIELDS = {
    **SECURITY_PREFERENCE_BOOLEANS,
    "LoginSessionDuration": "session_hours",
    "LoginNetworkMasks": "logon_ip_masks",
}
PASSWORD_POLICY_BOOLEANS = {
    "RequireLowercaseCharacters": "require_lowercase",
    "RequireUppercaseCharacters": "require_uppercase",
    "RequireNumbers": "require_numbers",
    "RequireSymbols": "require_symbols",
    "HardExpiry": "hard_expiry",
}
PASSWORD_POLICY_NUMBERS = {
    "MinimumPasswordLength": "minimum_length",
    "MaxPasswordAge": "max_age_days",
    "PasswordReusePrevention": "reuse_prevention",
    "MaxLoginAttemps": "max_failed_attempts",  # sic: RAM's spelling
}


def _parameters_of(fields: dict[str, str]) -> dict[str, str]:
    return {field: parameter for parameter, field in fields.items()}


# --- Enterprise alias ("Update default domain") ---


@action("GetAccountAlias")
def get_account_alias(actor: Actor, params: Params) -> ResponseFields:
    require_reader(actor)
    # Without an alias, the account ID is what names the account in its logon domain, as in RAM.
    return {"AccountAlias": actor.account.alias or actor.account.account_id}


@action("SetAccountAlias")
def set_account_alias(actor: Actor, params: Params) -> ResponseFields:
    set_alias(actor, params.required("AccountAlias"), parameter="AccountAlias")
    return {}


def set_alias(actor: Actor, alias: str, *, parameter: str) -> PrimaryAccount:
    """The enterprise alias service, its refusals in RAM's codes (`parameter`: the request's name for the alias);
    RAM's SetAccountAlias and IMS's SetDefaultDomain both come here."""
    try:
        return set_enterprise_alias(actor=actor, otp_code=None, alias=alias)
    except ValidationError as error:
        messages = error.message_dict.get("alias", []) if hasattr(error, "error_dict") else error.messages
        if any(message == ALIAS_TAKEN or "held until" in message for message in messages):
            raise ApiError(f"EntityAlreadyExists.{parameter}", " ".join(messages), 409) from None
        raise translate(error, fields={"alias": parameter}) from None
    except PermissionDenied as error:
        raise translate(error) from None


@action("ClearAccountAlias")
def clear_account_alias(actor: Actor, params: Params) -> ResponseFields:
    try:
        clear_enterprise_alias(actor=actor, otp_code=None)
    except (PermissionDenied, ValidationError) as error:
        raise translate(error) from None
    return {}


# --- Security preference ("Update RAM User Security Settings") ---


def security_preference(settings: SecuritySettings) -> ResponseFields:
    return {
        "SecurityPreference": {
            "LoginProfilePreference": {
                "EnableSaveMFATicket": settings.remember_mfa_for_7_days,
                "AllowUserToChangePassword": settings.allow_change_password,
                "LoginSessionDuration": settings.session_hours,
                "LoginNetworkMasks": ";".join(settings.logon_ip_masks),
            },
            "AccessKeyPreference": {"AllowUserToManageAccessKeys": settings.allow_manage_access_keys},
            "MFAPreference": {"AllowUserToManageMFADevices": settings.allow_manage_mfa},
            # The portal holds no SSH public keys.
            "PublicKeyPreference": {"AllowUserToManagePublicKeys": False},
        }
    }


@action("GetSecurityPreference")
def get_security_preference(actor: Actor, params: Params) -> ResponseFields:
    require_reader(actor)
    return security_preference(SecuritySettings.objects.get(account=actor.account))


@action("SetSecurityPreference")
def set_security_preference(actor: Actor, params: Params) -> ResponseFields:
    if params.boolean("AllowUserToManagePublicKeys"):
        raise ApiError("InvalidParameter.AllowUserToManagePublicKeys", "The portal holds no SSH public keys.")
    return security_preference(change_security_preference(actor, params))


def change_security_preference(actor: Actor, params: Params) -> SecuritySettings:
    """SetSecurityPreference's work for RAM and IMS (the same names for what the portal has)."""
    values: dict[str, bool | int | list[str]] = {}
    for parameter, field in SECURITY_PREFERENCE_BOOLEANS.items():
        if (value := params.boolean(parameter)) is not None:
            values[field] = value
    if (hours := params.integer("LoginSessionDuration")) is not None:
        values["session_hours"] = hours
    if params.has("LoginNetworkMasks"):  # present and empty: no restriction
        values["logon_ip_masks"] = params.get("LoginNetworkMasks").split(";")
    try:
        return update_security_settings(actor=actor, otp_code=None, values=values)
    except (PermissionDenied, ValidationError) as error:
        raise translate(error, fields=_parameters_of(SECURITY_PREFERENCE_FIELDS)) from None


# --- Password policy ---


def password_policy(policy: PasswordPolicy, booleans: dict[str, str] = PASSWORD_POLICY_BOOLEANS) -> ResponseFields:
    fields = {**PASSWORD_POLICY_NUMBERS, **booleans}
    return {"PasswordPolicy": {parameter: getattr(policy, field) for parameter, field in fields.items()}}


@action("GetPasswordPolicy")
def get_password_policy(actor: Actor, params: Params) -> ResponseFields:
    require_reader(actor)
    return password_policy(PasswordPolicy.objects.get(account=actor.account))


@action("SetPasswordPolicy")
def set_password_policy(actor: Actor, params: Params) -> ResponseFields:
    return password_policy(change_password_policy(actor, params, PASSWORD_POLICY_BOOLEANS))


def change_password_policy(actor: Actor, params: Params, booleans: dict[str, str]) -> PasswordPolicy:
    """SetPasswordPolicy's work for RAM and IMS, which name one of the booleans differently (`booleans`)."""
    values: dict[str, bool | int] = {}
    for parameter, field in booleans.items():
        if (value := params.boolean(parameter)) is not None:
            values[field] = value
    for parameter, field in PASSWORD_POLICY_NUMBERS.items():
        if (number := params.integer(parameter)) is not None:
            values[field] = number
    try:
        return update_password_policy(actor=actor, otp_code=None, values=values)
    except (PermissionDenied, ValidationError) as error:
        raise translate(error, fields=_parameters_of({**PASSWORD_POLICY_NUMBERS, **booleans})) from None
