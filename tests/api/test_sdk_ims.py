"""IMS (2019-08-15) on the portal's endpoint (issue 16, item 3), through the official `alibabacloud-ims20190815` SDK
with both of its signatures: the default domain is the enterprise alias, with the same rules, hold and audit event as
RAM's SetAccountAlias and the console's "Update default domain"."""

import pytest
from alibabacloud_ims20190815 import models as ims
from alibabacloud_ims20190815.client import Client as ImsClient
from Tea.exceptions import TeaException

from accounts.models import AccessKey, AliasHold, PasswordPolicy, PrimaryAccount, RamUser, SecuritySettings
from accounts.services.alias import clear_enterprise_alias, set_enterprise_alias
from accounts.services.groups import create_group
from accounts.services.otp import new_authenticator
from portal.models import AuditEvent
from tests.api.conftest import issue_key, ram_client
from tests.conftest import Person, make_ram_user
from tests.db_state import database_state

CANARY_PASSWORD = "Canary-Quartz-Lantern-6481"


@pytest.fixture(params=["acs3", "v2"])
def ims_sdk(request, live_server, owner_key) -> ImsClient:
    return ram_client(
        live_server, *owner_key, signature_algorithm=None if request.param == "acs3" else "v2", product=ImsClient
    )


def test_the_default_domain_is_the_alias_s_and_setting_it_sets_the_alias(ims_sdk, owner):
    account_id = owner.account.account_id
    assert ims_sdk.get_default_domain().body.default_domain_name == f"{account_id}.onaliyun.com"
    answer = ims_sdk.set_default_domain(ims.SetDefaultDomainRequest(default_domain_name="Acme-Data.onaliyun.com"))
    assert answer.body.default_domain_name == "acme-data.onaliyun.com"
    assert PrimaryAccount.objects.get(pk=owner.account.pk).alias == "acme-data"
    assert ims_sdk.get_default_domain().body.default_domain_name == "acme-data.onaliyun.com"
    event = AuditEvent.objects.get(action="alias.set")
    assert event.channel == "api" and event.details == {"old": None, "new": "acme-data"}


def test_default_domain_errors_change_nothing(ims_sdk, owner, other_owner):
    set_enterprise_alias(actor=other_owner.actor, otp_code=other_owner.code(), alias="taken-one")
    set_enterprise_alias(actor=other_owner.actor, otp_code=other_owner.code(), alias="second-one")  # holds taken-one
    clear_enterprise_alias(actor=other_owner.actor, otp_code=other_owner.code())  # and now second-one
    assert AliasHold.objects.filter(alias="second-one").exists()
    before = database_state()
    for domain, code in (
        ("taken-one.onaliyun.com", "EntityAlreadyExists.DefaultDomainName"),  # held 30 days for its account
        ("second-one.onaliyun.com", "EntityAlreadyExists.DefaultDomainName"),
        ("acme.example.com", "InvalidParameter.DefaultDomainName"),
        (".onaliyun.com", "InvalidParameter.DefaultDomainName"),
        ("-bad--alias.onaliyun.com", "InvalidParameter.DefaultDomainName"),
    ):
        with pytest.raises(TeaException) as refused:
            ims_sdk.set_default_domain(ims.SetDefaultDomainRequest(default_domain_name=domain))
        assert refused.value.code == code, domain
    assert database_state() == before


def test_only_the_owner_sets_the_default_domain_and_administrators_read_it(live_server, owner):
    admin = ram_client(
        live_server,
        *issue_key(make_ram_user(owner, "admin", policies=("AliyunRAMFullAccess",))),
        product=ImsClient,
    )
    before = database_state()
    with pytest.raises(TeaException) as refused:
        admin.set_default_domain(ims.SetDefaultDomainRequest(default_domain_name="acme-data.onaliyun.com"))
    assert refused.value.code == "NoPermission"
    assert database_state() == before
    assert admin.get_default_domain().body.default_domain_name.endswith(".onaliyun.com")
    nobody = ram_client(live_server, *issue_key(make_ram_user(owner, "nobody")), product=ImsClient)
    with pytest.raises(TeaException) as refused:
        nobody.get_default_domain()
    assert refused.value.code == "NoPermission"


def test_users_by_principal_name_created_read_updated_listed_and_deleted(ims_sdk, owner):
    domain = f"{owner.account.account_id}.onaliyun.com"
    created = ims_sdk.create_user(
        ims.CreateUserRequest(user_principal_name=f"alice@{domain}", display_name="Alice", email="alice@example.com")
    ).body.user
    assert created.user_principal_name == f"alice@{domain}" and created.display_name == "Alice"
    ram_user = RamUser.objects.get(account=owner.account, name="alice")
    assert created.user_id == str(ram_user.pk)
    assert AuditEvent.objects.get(action="ram_user.create").channel == "api"

    by_name = ims_sdk.get_user(ims.GetUserRequest(user_principal_name=f"ALICE@{domain.upper()}")).body.user
    by_id = ims_sdk.get_user(ims.GetUserRequest(user_id=str(ram_user.pk))).body.user
    key_id, _ = issue_key(Person(user=ram_user.user, account=owner.account, password="", ram_user=ram_user))
    by_key = ims_sdk.get_user(ims.GetUserRequest(user_access_key_id=key_id)).body.user
    assert by_name.user_id == by_id.user_id == by_key.user_id == str(ram_user.pk)

    set_enterprise_alias(actor=owner.actor, otp_code=owner.code(), alias="acme-data")
    updated = ims_sdk.update_user(
        ims.UpdateUserRequest(
            user_principal_name=f"alice@{domain}",  # the account-ID domain stays valid beside the alias's
            new_user_principal_name="alice.l@acme-data.onaliyun.com",
            new_display_name="Alice L.",
        )
    ).body.user
    assert updated.user_principal_name == "alice.l@acme-data.onaliyun.com" and updated.display_name == "Alice L."
    assert RamUser.objects.get(pk=ram_user.pk).name == "alice.l"

    for name in ("bob", "carol"):
        ims_sdk.create_user(ims.CreateUserRequest(user_principal_name=f"{name}@acme-data.onaliyun.com"))
    first = ims_sdk.list_users(ims.ListUsersRequest(max_items=2)).body
    assert [u.user_principal_name for u in first.users.user] == [
        "alice.l@acme-data.onaliyun.com",
        "bob@acme-data.onaliyun.com",
    ]
    assert first.is_truncated and first.marker
    second = ims_sdk.list_users(ims.ListUsersRequest(max_items=2, marker=first.marker)).body
    assert [u.user_principal_name for u in second.users.user] == ["carol@acme-data.onaliyun.com"]

    ims_sdk.delete_user(ims.DeleteUserRequest(user_principal_name="carol@acme-data.onaliyun.com"))
    assert not RamUser.objects.filter(account=owner.account, name="carol").exists()


def test_user_errors_in_ims_codes_change_nothing(ims_sdk, owner, other_owner):
    make_ram_user(owner, "alice")
    other = make_ram_user(other_owner, "mallory")
    domain = f"{owner.account.account_id}.onaliyun.com"
    before = database_state()
    for call, code in (
        (
            lambda: ims_sdk.create_user(ims.CreateUserRequest(user_principal_name=f"Alice@{domain}")),
            "EntityAlreadyExists.User",
        ),
        (
            lambda: ims_sdk.create_user(ims.CreateUserRequest(user_principal_name="bob@elsewhere.com")),
            "InvalidParameter.UserPrincipalName",
        ),
        (
            lambda: ims_sdk.create_user(ims.CreateUserRequest(user_principal_name=f"bad name@{domain}")),
            "InvalidParameter.UserName.InvalidChars",
        ),
        (lambda: ims_sdk.get_user(ims.GetUserRequest(user_principal_name=f"nobody@{domain}")), "EntityNotExist.User"),
        (lambda: ims_sdk.get_user(ims.GetUserRequest(user_id=str(other.ram_user.pk))), "EntityNotExist.User"),
        (lambda: ims_sdk.get_user(ims.GetUserRequest(user_id="not-a-number")), "EntityNotExist.User"),
        (lambda: ims_sdk.get_user(ims.GetUserRequest()), "MissingParameter.UserPrincipalName"),
        (
            lambda: ims_sdk.delete_user(ims.DeleteUserRequest(user_principal_name=f"alice@{domain}")),
            "DeleteConflict.User.LoginProfile",
        ),
    ):
        with pytest.raises(TeaException) as refused:
            call()
        assert refused.value.code == code
    assert database_state() == before


def test_a_ram_user_reads_its_own_entry_and_nobody_else_s(live_server, owner):
    make_ram_user(owner, "bob")
    alice = make_ram_user(owner, "alice")
    sdk = ram_client(live_server, *issue_key(alice), product=ImsClient)
    own = sdk.get_user(ims.GetUserRequest(user_id=str(alice.ram_user.pk))).body.user
    assert own.user_principal_name == alice.ram_user.logon_name
    domain = f"{owner.account.account_id}.onaliyun.com"
    for call in (
        lambda: sdk.get_user(ims.GetUserRequest(user_principal_name=f"bob@{domain}")),
        lambda: sdk.get_user(ims.GetUserRequest(user_principal_name=f"nobody@{domain}")),
        lambda: sdk.list_users(ims.ListUsersRequest()),
        lambda: sdk.create_user(ims.CreateUserRequest(user_principal_name=f"carol@{domain}")),
    ):
        with pytest.raises(TeaException) as refused:
            call()
        assert refused.value.code == "NoPermission"


def test_security_preference_and_password_policy_in_ims_names(ims_sdk, owner):
    preference = ims_sdk.get_security_preference().body.security_preference
    assert preference.login_profile_preference.allow_user_to_change_password is True
    assert preference.access_key_preference.allow_user_to_manage_access_keys is False
    changed = ims_sdk.set_security_preference(
        ims.SetSecurityPreferenceRequest(
            allow_user_to_manage_access_keys=True, login_session_duration=12, login_network_masks="10.0.0.0/8"
        )
    ).body.security_preference
    assert changed.access_key_preference.allow_user_to_manage_access_keys is True
    assert changed.login_profile_preference.login_session_duration == 12
    settings = SecuritySettings.objects.get(account=owner.account)
    assert settings.allow_manage_access_keys and settings.session_hours == 12
    assert settings.logon_ip_masks == ["10.0.0.0/8"]

    policy = ims_sdk.get_password_policy().body.password_policy
    assert policy.minimum_password_length == 12 and policy.hard_expire is False
    changed_policy = ims_sdk.set_password_policy(
        ims.SetPasswordPolicyRequest(minimum_password_length=16, hard_expire=True, max_password_age=90)
    ).body.password_policy
    assert changed_policy.minimum_password_length == 16 and changed_policy.hard_expire is True
    stored = PasswordPolicy.objects.get(account=owner.account)
    assert (stored.minimum_length, stored.hard_expiry, stored.max_age_days) == (16, True, 90)
    for audited in ("security_settings.update", "password_policy.update"):
        assert AuditEvent.objects.filter(channel="api", action=audited).count() == 1, audited


def test_settings_the_portal_does_not_have_are_refused_and_change_nothing(ims_sdk, owner):
    before = database_state()
    for call, code in (
        (
            lambda: ims_sdk.set_password_policy(
                ims.SetPasswordPolicyRequest(minimum_password_length=16, password_not_contain_user_name=True)
            ),
            "InvalidParameter.PasswordNotContainUserName",
        ),
        (
            lambda: ims_sdk.set_security_preference(ims.SetSecurityPreferenceRequest(max_idle_days_for_users=90)),
            "InvalidParameter.MaxIdleDaysForUsers",
        ),
        (
            lambda: ims_sdk.set_password_policy(ims.SetPasswordPolicyRequest(minimum_password_length=3)),
            "InvalidParameter.MinimumPasswordLength",
        ),
    ):
        with pytest.raises(TeaException) as refused:
            call()
        assert refused.value.code == code
    assert database_state() == before


def test_the_account_summary_counts_this_account_only(ims_sdk, owner, other_owner):
    alice = make_ram_user(owner, "alice")
    create_group(actor=owner.actor, name="team")
    create_group(actor=other_owner.actor, name="theirs")
    make_ram_user(owner, "bob")
    make_ram_user(other_owner, "mallory")
    new_authenticator(user=alice.user, name="pending", confirmed=False)  # bound, not confirmed yet
    summary = ims_sdk.get_account_summary().body.summary_map
    assert summary.users == 2
    assert (summary.mfadevices, summary.mfadevices_in_use) == (2, 1)  # the owner's confirmed one, alice's pending one
    assert summary.access_keys_per_user_quota == 2
    assert (summary.groups, summary.groups_quota, summary.groups_per_user_quota) == (1, 50, 5)


def test_access_keys_and_the_login_profile_by_principal_name(ims_sdk, owner):
    make_ram_user(owner, "bob", console_logon=False)
    bob = f"bob@{owner.account.account_id}.onaliyun.com"
    created = ims_sdk.create_access_key(ims.CreateAccessKeyRequest(user_principal_name=bob)).body.access_key
    assert created.access_key_secret and created.status == "Active"
    stored = AccessKey.objects.get(access_key_id=created.access_key_id)
    assert stored.user.ram_user.name == "bob" and created.access_key_secret not in stored.sealed_secret
    listed = ims_sdk.list_access_keys(ims.ListAccessKeysRequest(user_principal_name=bob)).body.access_keys.access_key
    assert [key.access_key_id for key in listed] == [created.access_key_id]
    assert not any(getattr(key, "access_key_secret", None) for key in listed)
    ims_sdk.update_access_key(
        ims.UpdateAccessKeyRequest(user_principal_name=bob, user_access_key_id=created.access_key_id, status="Inactive")
    )
    assert AccessKey.objects.get(pk=stored.pk).status == "Inactive"
    last_used = ims_sdk.get_access_key_last_used(
        ims.GetAccessKeyLastUsedRequest(user_principal_name=bob, user_access_key_id=created.access_key_id)
    )
    assert last_used.body.access_key_last_used.last_used_date is None
    ims_sdk.delete_access_key(
        ims.DeleteAccessKeyRequest(user_principal_name=bob, user_access_key_id=created.access_key_id)
    )
    assert not AccessKey.objects.filter(pk=stored.pk).exists()

    profile = ims_sdk.create_login_profile(
        ims.CreateLoginProfileRequest(user_principal_name=bob, password=CANARY_PASSWORD, mfabind_required=True)
    ).body.login_profile
    assert profile.user_principal_name == bob and profile.mfabind_required is True and profile.status == "Active"
    assert RamUser.objects.get(name="bob", account=owner.account).is_console_logon_enabled
    got = ims_sdk.get_login_profile(ims.GetLoginProfileRequest(user_principal_name=bob)).body.login_profile
    assert got.user_principal_name == bob and got.password_reset_required is False
    ims_sdk.update_login_profile(ims.UpdateLoginProfileRequest(user_principal_name=bob, password_reset_required=True))
    assert RamUser.objects.get(name="bob", account=owner.account).must_reset_password
    ims_sdk.delete_login_profile(ims.DeleteLoginProfileRequest(user_principal_name=bob))
    assert not RamUser.objects.get(name="bob", account=owner.account).is_console_logon_enabled
    assert not AuditEvent.objects.filter(details__icontains=CANARY_PASSWORD).exists()


def test_key_and_profile_errors_in_ims_names_change_nothing(ims_sdk, owner):
    make_ram_user(owner, "bob")
    bob = f"bob@{owner.account.account_id}.onaliyun.com"
    before = database_state()
    for call, code in (
        (lambda: ims_sdk.get_login_profile(ims.GetLoginProfileRequest()), "MissingParameter.UserPrincipalName"),
        (
            lambda: ims_sdk.create_login_profile(
                ims.CreateLoginProfileRequest(user_principal_name=bob, password=CANARY_PASSWORD)
            ),
            "EntityAlreadyExists.User.LoginProfile",
        ),
        (
            lambda: ims_sdk.update_login_profile(
                ims.UpdateLoginProfileRequest(user_principal_name=bob, status="Inactive")
            ),
            "InvalidParameter.Status",
        ),
        (
            lambda: ims_sdk.create_access_key(ims.CreateAccessKeyRequest(user_principal_name="bob@elsewhere.com")),
            "InvalidParameter.UserPrincipalName",
        ),
        (
            lambda: ims_sdk.delete_access_key(
                ims.DeleteAccessKeyRequest(user_principal_name=bob, user_access_key_id="LTAI" + "0" * 20)
            ),
            "EntityNotExist.User.AccessKey",
        ),
    ):
        with pytest.raises(TeaException) as refused:
            call()
        assert refused.value.code == code
    assert database_state() == before
