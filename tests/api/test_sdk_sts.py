"""STS on the portal's endpoint (issue 16, item 2): GetCallerIdentity through the official
`alibabacloud-sts20150401` SDK, with both of its signatures, for the primary account's key and for a RAM user's key
that has no policy at all — which can call nothing else. Every product shares one signature check, made first."""

import pytest
from alibabacloud_ram20150501 import models as ram
from alibabacloud_sts20150401.client import Client as StsClient
from django.test import Client
from Tea.exceptions import TeaException

from accounts.models import AccessKey
from tests.api.conftest import issue_key, ram_client, signed_query
from tests.conftest import make_ram_user


@pytest.fixture(params=["acs3", "v2"])
def algorithm(request):
    return None if request.param == "acs3" else "v2"


def test_the_primary_account_s_key_is_the_account_s_root(live_server, owner, owner_key, algorithm):
    sts = ram_client(live_server, *owner_key, signature_algorithm=algorithm, product=StsClient)
    identity = sts.get_caller_identity().body
    account_id = owner.account.account_id
    assert identity.identity_type == "Account"
    assert identity.account_id == identity.user_id == identity.principal_id == account_id
    assert identity.arn == f"acs:ram::{account_id}:root"
    assert identity.request_id
    assert AccessKey.objects.get(access_key_id=owner_key[0]).last_used_service == "sts"


def test_a_ram_user_without_policies_learns_who_it_is_and_nothing_else(live_server, owner, algorithm):
    alice = make_ram_user(owner, "alice")  # no policy
    key = issue_key(alice)
    identity = ram_client(live_server, *key, signature_algorithm=algorithm, product=StsClient).get_caller_identity()
    body = identity.body
    assert body.identity_type == "RAMUser"
    assert body.account_id == owner.account.account_id
    assert body.user_id == body.principal_id == str(alice.ram_user.pk)
    assert body.arn == f"acs:ram::{owner.account.account_id}:user/alice"
    ram_sdk = ram_client(live_server, *key, signature_algorithm=algorithm)
    with pytest.raises(TeaException) as refused:
        ram_sdk.list_users(ram.ListUsersRequest())
    assert refused.value.code == "NoPermission"
    with pytest.raises(TeaException) as refused:
        ram_sdk.get_user(ram.GetUserRequest(user_name="bob"))
    assert refused.value.code == "NoPermission"


def test_a_wrong_secret_is_told_so_whatever_the_product_and_version(owner, owner_key):
    key_id, _ = owner_key
    for version in ("2015-04-01", "2015-05-01", "2019-08-15", "1999-01-01"):
        query = signed_query(key_id, "not-the-secret", {"Action": "GetCallerIdentity", "Version": version})
        response = Client().post(f"/?{query}")
        assert (response.status_code, response.json()["Code"]) == (400, "SignatureDoesNotMatch"), version


def test_an_unknown_version_or_action_answers_as_ram_does(owner, owner_key):
    unknown_version = Client().post(f"/?{signed_query(*owner_key, {'Action': 'GetUser', 'Version': '1999-01-01'})}")
    assert (unknown_version.status_code, unknown_version.json()["Code"]) == (400, "InvalidVersion")
    unknown_action = Client().post(f"/?{signed_query(*owner_key, {'Action': 'GetUser', 'Version': '2015-04-01'})}")
    assert (unknown_action.status_code, unknown_action.json()["Code"]) == (404, "InvalidAction.NotFound")
    ram_action = Client().post(f"/?{signed_query(*owner_key, {'Action': 'NoSuchAction'})}")
    assert (ram_action.status_code, ram_action.json()["Code"]) == (404, "InvalidAction.NotFound")
    assert unknown_version.json()["RequestId"] and unknown_version.json()["HostId"]


def test_no_permission_says_which_action_which_principal_and_which_policy(live_server, owner, algorithm):
    alice = make_ram_user(owner, "alice")
    ram_sdk = ram_client(live_server, *issue_key(alice), signature_algorithm=algorithm)
    with pytest.raises(TeaException) as refused:
        ram_sdk.list_users(ram.ListUsersRequest())
    detail = refused.value.data["AccessDeniedDetail"]
    assert detail["AuthAction"] == "ram:ListUsers"
    assert detail["AuthPrincipalType"] == "SubUser" and detail["AuthPrincipalDisplayName"] == alice.user.principal
    assert detail["AuthPrincipalOwnerId"] == owner.account.account_id
    assert detail["MissingPolicy"] == "AliyunRAMReadOnlyAccess"
    with pytest.raises(TeaException) as refused:
        ram_sdk.create_user(ram.CreateUserRequest(user_name="bob", display_name="Bob"))
    assert refused.value.data["AccessDeniedDetail"]["MissingPolicy"] == "AliyunRAMFullAccess"
    assert refused.value.data["AccessDeniedDetail"]["AuthAction"] == "ram:CreateUser"
