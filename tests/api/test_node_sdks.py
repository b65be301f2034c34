"""The official Node.js SDKs against the portal (issue 16): `@alicloud/ram20150501`, `@alicloud/ims20190815` and
`@alicloud/sts20150401` (both of their signatures) and the older `@alicloud/pop-core`, run by Node itself
(tests/node/sdk_calls.js, installed by `make test`) against the live server, signing with keys issued here."""

import base64
import csv
import io
import json
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import AccessKey, PrimaryAccount, RamUser
from portal.models import AuditEvent, SeenNonce
from tests.api.conftest import endpoint_of, issue_key
from tests.conftest import make_ram_user

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
NODE_MODULES = Path(__file__).resolve().parents[2] / "var" / "node" / "node_modules"  # where `make node` installs
CANARY_PASSWORD = "Canary-Node-Harbour-7305"


def node_calls(calls: list[dict]) -> list[dict]:
    """Each call's outcome, made one after the other by one Node process (tests/node/sdk_calls.js)."""
    node = shutil.which("node")
    assert node, "Node.js is needed for these tests (make test installs it with the SDKs)"
    assert (NODE_MODULES / "@alicloud" / "ims20190815").is_dir(), "run make test: it installs the SDKs"
    finished = subprocess.run(
        [node, str(NODE_DIR / "sdk_calls.js")],
        env={**os.environ, "NODE_PATH": str(NODE_MODULES)},
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    outcomes = json.loads(finished.stdout)
    assert len(outcomes) == len(calls)
    return outcomes


@pytest.fixture(params=["acs3", "v2"])
def signature(request):
    return None if request.param == "acs3" else "v2"


@pytest.fixture
def caller(live_server, signature):
    """A call of `sdk`'s `action` signed with `key`, as sdk_calls.js takes it."""

    def make(sdk: str, key: tuple[str, str], action: str, params: dict | None = None, **extra) -> dict:
        return {
            "sdk": sdk,
            "endpoint": endpoint_of(live_server),
            "key": list(key),
            "signature": signature,
            "action": action,
            "params": params or {},
            **extra,
        }

    return make


def answered(outcome: dict) -> dict:
    assert outcome["ok"], outcome
    return outcome["body"]


def refused(outcome: dict) -> str:
    assert not outcome["ok"], outcome
    return outcome["code"]


def test_sts_tells_the_owner_and_a_policy_less_ram_user_who_they_are_and_that_is_all(caller, owner, owner_key):
    alice = make_ram_user(owner, "alice")  # no policy
    alice_key = issue_key(alice)
    account_id = owner.account.account_id
    root, user, ims_list, ram_list, ram_get = node_calls(
        [
            caller("sts", owner_key, "GetCallerIdentity"),
            caller("sts", alice_key, "GetCallerIdentity"),
            caller("ims", alice_key, "ListUsers"),
            caller("ram", alice_key, "ListUsers"),
            caller("ram", alice_key, "GetUser", {"UserName": "bob"}),
        ]
    )
    assert answered(root) | {"RequestId": ""} == {
        "IdentityType": "Account",
        "AccountId": account_id,
        "UserId": account_id,
        "PrincipalId": account_id,
        "Arn": f"acs:ram::{account_id}:root",
        "RequestId": "",
    }
    identity = answered(user)
    assert identity["IdentityType"] == "RAMUser" and identity["UserId"] == str(alice.ram_user.pk)
    assert identity["Arn"] == f"acs:ram::{account_id}:user/alice"
    assert [refused(outcome) for outcome in (ims_list, ram_list, ram_get)] == ["NoPermission"] * 3
    detail = ims_list["data"]["AccessDeniedDetail"]
    assert (detail["AuthAction"], detail["MissingPolicy"]) == ("ims:ListUsers", "AliyunRAMReadOnlyAccess")
    assert (detail["AuthPrincipalType"], detail["AuthPrincipalDisplayName"]) == ("SubUser", f"RAM${account_id}:alice")
    assert AccessKey.objects.get(access_key_id=alice_key[0]).last_used_service == "sts"


def test_ims_users_keys_and_logon_by_principal_name(caller, owner, owner_key):
    domain = "acme-node.onaliyun.com"
    bob = f"bob@{domain}"
    outcomes = node_calls(
        [
            caller("ims", owner_key, "SetDefaultDomain", {"DefaultDomainName": domain}),
            caller("ims", owner_key, "GetDefaultDomain"),
            caller("ims", owner_key, "CreateUser", {"UserPrincipalName": bob, "DisplayName": "Bob 王"}),
            caller("ims", owner_key, "GetUser", {"UserPrincipalName": bob}),
            caller("ims", owner_key, "UpdateUser", {"UserPrincipalName": bob, "NewDisplayName": "Bob Wang"}),
            caller("ims", owner_key, "ListUsers", {"MaxItems": 10}),
            caller("ims", owner_key, "CreateAccessKey", {"UserPrincipalName": bob}),
            caller("ims", owner_key, "ListAccessKeys", {"UserPrincipalName": bob}),
            caller("ims", owner_key, "CreateLoginProfile", {"UserPrincipalName": bob, "Password": CANARY_PASSWORD}),
            caller("ims", owner_key, "GetLoginProfile", {"UserPrincipalName": bob}),
            caller("ims", owner_key, "GetUser", {"UserPrincipalName": "carol@" + domain}),
            caller("ims", owner_key, "SetDefaultDomain", {"DefaultDomainName": "acme.example.com"}),
        ]
    )
    (set_domain, got_domain, created, got, updated, listed, key, keys, profile, got_profile, missing, bad) = outcomes
    assert answered(set_domain)["DefaultDomainName"] == domain
    assert answered(got_domain)["DefaultDomainName"] == domain
    assert PrimaryAccount.objects.get(pk=owner.account.pk).alias == "acme-node"
    assert answered(created)["User"]["UserPrincipalName"] == bob
    assert answered(got)["User"]["DisplayName"] == "Bob 王"
    assert answered(updated)["User"]["DisplayName"] == "Bob Wang"
    assert [user["UserPrincipalName"] for user in answered(listed)["Users"]["User"]] == [bob]
    secret = answered(key)["AccessKey"]["AccessKeySecret"]
    key_id = answered(key)["AccessKey"]["AccessKeyId"]
    assert [entry["AccessKeyId"] for entry in answered(keys)["AccessKeys"]["AccessKey"]] == [key_id]
    assert "AccessKeySecret" not in answered(keys)["AccessKeys"]["AccessKey"][0]
    assert answered(profile)["LoginProfile"]["UserPrincipalName"] == bob
    assert answered(got_profile)["LoginProfile"]["Status"] == "Active"
    assert refused(missing) == "EntityNotExist.User"
    assert refused(bad) == "InvalidParameter.DefaultDomainName"
    stored = RamUser.objects.get(account=owner.account, name="bob")
    assert stored.display_name == "Bob Wang" and stored.is_console_logon_enabled
    assert secret not in AccessKey.objects.get(access_key_id=key_id).sealed_secret
    assert not AuditEvent.objects.filter(details__icontains=CANARY_PASSWORD).exists()

    by_id, by_key, active, disabled, deleted_profile, deleted_key, deleted_user = node_calls(
        [
            caller("ims", owner_key, "GetUser", {"UserId": str(stored.pk)}),
            caller("ims", owner_key, "GetUser", {"UserAccessKeyId": key_id}),
            caller("ims", owner_key, "DeleteAccessKey", {"UserPrincipalName": bob, "UserAccessKeyId": key_id}),
            caller(
                "ims",
                owner_key,
                "UpdateAccessKey",
                {"UserPrincipalName": bob, "UserAccessKeyId": key_id, "Status": "Inactive"},
            ),
            caller("ims", owner_key, "DeleteLoginProfile", {"UserPrincipalName": bob}),
            caller("ims", owner_key, "DeleteAccessKey", {"UserPrincipalName": bob, "UserAccessKeyId": key_id}),
            caller("ims", owner_key, "DeleteUser", {"UserPrincipalName": bob}),
        ]
    )
    assert answered(by_id)["User"]["UserPrincipalName"] == answered(by_key)["User"]["UserPrincipalName"] == bob
    assert (refused(active), active["statusCode"]) == ("DeleteConflict.AccessKey.Active", 409)  # disabled first
    assert answered(disabled)["RequestId"]
    for outcome in (deleted_profile, deleted_key, deleted_user):
        answered(outcome)
    assert not RamUser.objects.filter(account=owner.account, name="bob").exists()


def test_ims_settings_summary_and_the_credential_report(caller, owner, owner_key):
    make_ram_user(owner, "alice")
    outcomes = node_calls(
        [
            caller("ims", owner_key, "SetPasswordPolicy", {"MinimumPasswordLength": 16, "HardExpire": True}),
            caller("ims", owner_key, "GetPasswordPolicy"),
            caller("ims", owner_key, "SetSecurityPreference", {"AllowUserToManageAccessKeys": True}),
            caller("ims", owner_key, "GetSecurityPreference"),
            caller("ims", owner_key, "SetPasswordPolicy", {"PasswordNotContainUserName": True}),
            caller("ims", owner_key, "GetAccountSummary"),
            caller("ims", owner_key, "GetCredentialReport"),
            caller("ims", owner_key, "GenerateCredentialReport"),
            caller("ims", owner_key, "GetCredentialReport"),
        ]
    )
    set_policy, policy, set_preference, preference, unsupported, summary, none_yet, generated, report = outcomes
    assert answered(set_policy)["PasswordPolicy"]["HardExpire"] is True
    assert answered(policy)["PasswordPolicy"]["MinimumPasswordLength"] == 16
    keys = answered(set_preference)["SecurityPreference"]["AccessKeyPreference"]
    assert keys["AllowUserToManageAccessKeys"] is True
    assert answered(preference)["SecurityPreference"]["AccessKeyPreference"] == keys
    assert refused(unsupported) == "InvalidParameter.PasswordNotContainUserName"
    assert answered(summary)["SummaryMap"]["Users"] == 1
    assert refused(none_yet) == "EntityNotExist.CredentialReport"
    assert answered(generated)["State"] in ("STARTED", "COMPLETE")
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(answered(report)["Content"]).decode())))
    account_id = owner.account.account_id
    assert [row["user"] for row in rows] == ["<root>", f"alice@{account_id}.onaliyun.com"]
    assert rows[1]["password_exist"] == "TRUE" and rows[1]["access_key_1_exist"] == "FALSE"


def test_the_ram_sdk_keeps_working(caller, owner, owner_key):
    created, got, listed, missing, deleted = node_calls(
        [
            caller("ram", owner_key, "CreateUser", {"UserName": "dana", "DisplayName": "Dana Ødegård"}),
            caller("ram", owner_key, "GetUser", {"UserName": "dana"}),
            caller("ram", owner_key, "ListUsers", {"MaxItems": 5}),
            caller("ram", owner_key, "GetUser", {"UserName": "nobody"}),
            caller("ram", owner_key, "DeleteUser", {"UserName": "dana"}),
        ]
    )
    assert answered(created)["User"]["UserName"] == "dana"
    assert answered(got)["User"]["DisplayName"] == "Dana Ødegård"
    assert [user["UserName"] for user in answered(listed)["Users"]["User"]] == ["dana"]
    assert (refused(missing), missing["statusCode"]) == ("EntityNotExist.User", 404)
    answered(deleted)
    assert not RamUser.objects.filter(account=owner.account).exists()


def test_pop_core_calls_every_product_by_its_version(live_server, owner, owner_key):
    make_ram_user(owner, "erin")
    account_id = owner.account.account_id

    def pop(version: str, action: str, params: dict | None = None, key=owner_key) -> dict:
        call = {"sdk": "pop", "endpoint": endpoint_of(live_server), "key": list(key), "version": version}
        return call | {"action": action, "params": params or {}}

    ram_user, identity, ims_user, wrong_secret, unknown = node_calls(
        [
            pop("2015-05-01", "GetUser", {"UserName": "erin"}),
            pop("2015-04-01", "GetCallerIdentity"),
            pop("2019-08-15", "GetUser", {"UserPrincipalName": f"erin@{account_id}.onaliyun.com"}),
            pop("2015-04-01", "GetCallerIdentity", key=(owner_key[0], "not-the-secret")),
            pop("1999-01-01", "GetCallerIdentity"),
        ]
    )
    assert answered(ram_user)["User"]["UserName"] == "erin"
    assert answered(identity)["Arn"] == f"acs:ram::{account_id}:root"
    assert answered(ims_user)["User"]["UserPrincipalName"] == f"erin@{account_id}.onaliyun.com"
    assert refused(wrong_secret) == "SignatureDoesNotMatch"
    assert refused(unknown) == "InvalidVersion"


def test_a_throttled_call_is_a_throttling_error_the_sdk_retries(caller, owner, owner_key, settings):
    """Two calls are planted 1.5 s ahead, so that the key is at its limit of two while Node starts and for a second
    more: the first call is refused with the wait, the retrying client waits it out (x-acs-retry-after) and gets
    through once the planted calls have left the window."""
    settings.PORTAL_API_CALLS_PER_SECOND = 2
    ahead = timezone.now() + timedelta(milliseconds=1500)
    SeenNonce.objects.bulk_create(
        SeenNonce(access_key_id=owner_key[0], nonce=f"planted-{number}", seen_at=ahead) for number in range(2)
    )
    throttled, retried = node_calls(
        [caller("sts", owner_key, "GetCallerIdentity"), caller("sts", owner_key, "GetCallerIdentity", retry=5)]
    )
    assert (throttled["name"], refused(throttled), throttled["retryAfter"]) == (
        "ThrottlingError",
        "Throttling.User",
        1000,
    )
    assert answered(retried)["IdentityType"] == "Account"
    assert timezone.now() >= ahead + timedelta(seconds=1)  # it went through only once the window had passed
