"""Account-wide settings through the RAM OpenAPI: alias, security preference, password policy."""

import pytest
from alibabacloud_ram20150501 import models as ram
from Tea.exceptions import TeaException

from accounts.models import AliasHold, PasswordPolicy, PrimaryAccount, SecuritySettings
from accounts.services.alias import set_enterprise_alias
from portal.models import AuditEvent
from tests.conftest import make_ram_user
from tests.db_state import database_state


def test_set_get_and_clear_the_account_alias(sdk, owner):
    assert sdk.get_account_alias().body.account_alias == owner.account.account_id
    sdk.set_account_alias(ram.SetAccountAliasRequest(account_alias="acme-data"))
    assert PrimaryAccount.objects.get(pk=owner.account.pk).alias == "acme-data"
    assert sdk.get_account_alias().body.account_alias == "acme-data"
    event = AuditEvent.objects.get(action="alias.set")
    assert event.channel == "api" and event.details == {"old": None, "new": "acme-data"}

    sdk.clear_account_alias()
    assert PrimaryAccount.objects.get(pk=owner.account.pk).alias is None
    assert AliasHold.objects.filter(alias="acme-data", account=owner.account).exists()
    assert AuditEvent.objects.filter(action="alias.clear", channel="api").count() == 1


def test_alias_errors(owner_sdk, owner, other_owner):
    set_enterprise_alias(actor=other_owner.actor, otp_code=other_owner.code(), alias="taken-one")
    with pytest.raises(TeaException) as taken:
        owner_sdk.set_account_alias(ram.SetAccountAliasRequest(account_alias="Taken-One"))
    assert taken.value.code == "EntityAlreadyExists.AccountAlias"
    with pytest.raises(TeaException) as invalid:
        owner_sdk.set_account_alias(ram.SetAccountAliasRequest(account_alias="-bad--alias"))
    assert invalid.value.code == "InvalidParameter.AccountAlias"
    assert PrimaryAccount.objects.get(pk=owner.account.pk).alias is None


def test_only_the_owner_changes_the_alias_and_the_security_settings(sdk_of, owner):
    admin_sdk = sdk_of(make_ram_user(owner, "admin", policies=("AliyunRAMFullAccess",)))
    before = database_state()
    for call in (
        lambda: admin_sdk.set_account_alias(ram.SetAccountAliasRequest(account_alias="acme-data")),
        admin_sdk.clear_account_alias,
        lambda: admin_sdk.set_security_preference(ram.SetSecurityPreferenceRequest(login_session_duration=12)),
        lambda: admin_sdk.set_password_policy(ram.SetPasswordPolicyRequest(minimum_password_length=20)),
    ):
        with pytest.raises(TeaException) as refused:
            call()
        assert refused.value.code == "NoPermission"
    assert database_state() == before
    # Reading them is RAM administration too.
    assert admin_sdk.get_password_policy().body.password_policy.minimum_password_length == 12


def test_security_preference_in_rams_names(sdk, owner):
    preference = sdk.get_security_preference().body.security_preference
    assert preference.login_profile_preference.allow_user_to_change_password is True
    assert preference.access_key_preference.allow_user_to_manage_access_keys is False
    assert preference.login_profile_preference.login_session_duration == 6

    changed = sdk.set_security_preference(
        ram.SetSecurityPreferenceRequest(
            enable_save_mfaticket=True,
            allow_user_to_manage_access_keys=True,
            allow_user_to_manage_mfadevices=False,
            login_session_duration=12,
            login_network_masks="10.0.0.0/8;192.168.1.7",
        )
    ).body.security_preference
    assert changed.login_profile_preference.login_network_masks == "10.0.0.0/8;192.168.1.7/32"
    settings = SecuritySettings.objects.get(account=owner.account)
    assert settings.remember_mfa_for_7_days and settings.allow_manage_access_keys and not settings.allow_manage_mfa
    assert settings.allow_change_password  # not named: unchanged
    assert (settings.session_hours, settings.logon_ip_masks) == (12, ["10.0.0.0/8", "192.168.1.7/32"])
    event = AuditEvent.objects.get(action="security_settings.update")
    assert event.channel == "api" and event.actor == owner.account.principal

    again = sdk.get_security_preference().body.security_preference
    assert again.mfapreference.allow_user_to_manage_mfadevices is False
    assert again.login_profile_preference.enable_save_mfaticket is True

    with pytest.raises(TeaException) as invalid:
        sdk.set_security_preference(ram.SetSecurityPreferenceRequest(login_session_duration=25))
    assert invalid.value.code == "InvalidParameter.LoginSessionDuration"
    with pytest.raises(TeaException) as masks:
        sdk.set_security_preference(ram.SetSecurityPreferenceRequest(login_network_masks="10.0.0.0/8;nonsense"))
    assert masks.value.code == "InvalidParameter.LoginNetworkMasks"
    assert SecuritySettings.objects.get(account=owner.account).session_hours == 12


def test_password_policy_in_rams_names(owner_sdk, owner):
    policy = owner_sdk.get_password_policy().body.password_policy
    assert (policy.minimum_password_length, policy.max_login_attemps, policy.require_symbols) == (12, 5, False)

    changed = owner_sdk.set_password_policy(
        ram.SetPasswordPolicyRequest(
            minimum_password_length=16,
            require_symbols=True,
            max_password_age=90,
            password_reuse_prevention=4,
            max_login_attemps=8,
            hard_expiry=True,
        )
    ).body.password_policy
    assert (changed.minimum_password_length, changed.max_login_attemps, changed.hard_expiry) == (16, 8, True)
    stored = PasswordPolicy.objects.get(account=owner.account)
    assert (stored.minimum_length, stored.require_symbols, stored.max_age_days) == (16, True, 90)
    assert (stored.reuse_prevention, stored.max_failed_attempts, stored.hard_expiry) == (4, 8, True)
    assert not stored.require_numbers
    assert AuditEvent.objects.get(action="password_policy.update").channel == "api"

    with pytest.raises(TeaException) as short:
        owner_sdk.set_password_policy(ram.SetPasswordPolicyRequest(minimum_password_length=6))
    assert short.value.code == "InvalidParameter.MinimumPasswordLength"
    assert PasswordPolicy.objects.get(account=owner.account).minimum_length == 16
