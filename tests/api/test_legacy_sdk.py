"""The legacy aliyun-python-sdk-ram (HMAC-SHA1, signature version 1.0) against the portal, unmodified."""

import json

import pytest
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkram.request.v20150501.AttachPolicyToUserRequest import AttachPolicyToUserRequest
from aliyunsdkram.request.v20150501.CreateAccessKeyRequest import CreateAccessKeyRequest
from aliyunsdkram.request.v20150501.CreateLoginProfileRequest import CreateLoginProfileRequest
from aliyunsdkram.request.v20150501.CreateUserRequest import CreateUserRequest
from aliyunsdkram.request.v20150501.GetSecurityPreferenceRequest import GetSecurityPreferenceRequest
from aliyunsdkram.request.v20150501.GetUserRequest import GetUserRequest
from aliyunsdkram.request.v20150501.ListAccessKeysRequest import ListAccessKeysRequest
from aliyunsdkram.request.v20150501.ListPoliciesForUserRequest import ListPoliciesForUserRequest

from accounts.models import AccessKey, PolicyAttachment, RamUser
from portal.models import AuditEvent


def call(client, request) -> dict:
    request.set_protocol_type("http")
    return json.loads(client.do_action_with_exception(request))


def test_the_legacy_sdk_onboards_a_user(legacy_sdk, owner):
    create = CreateUserRequest()
    create.set_UserName("alice")
    create.set_DisplayName("Alice")
    assert call(legacy_sdk, create)["User"]["UserName"] == "alice"

    profile = CreateLoginProfileRequest()
    profile.set_UserName("alice")
    profile.set_Password("Quartz-Harbor-Lantern-42")
    profile.set_PasswordResetRequired(True)
    assert call(legacy_sdk, profile)["LoginProfile"]["PasswordResetRequired"] is True

    key = CreateAccessKeyRequest()
    key.set_UserName("alice")
    issued = call(legacy_sdk, key)["AccessKey"]
    listing = ListAccessKeysRequest()
    listing.set_UserName("alice")
    assert [entry["AccessKeyId"] for entry in call(legacy_sdk, listing)["AccessKeys"]["AccessKey"]] == [
        issued["AccessKeyId"]
    ]

    attach = AttachPolicyToUserRequest()
    attach.set_PolicyType("System")
    attach.set_PolicyName("AliyunRAMReadOnlyAccess")
    attach.set_UserName("alice")
    call(legacy_sdk, attach)
    policies = ListPoliciesForUserRequest()
    policies.set_UserName("alice")
    assert [p["PolicyName"] for p in call(legacy_sdk, policies)["Policies"]["Policy"]] == ["AliyunRAMReadOnlyAccess"]

    preference = call(legacy_sdk, GetSecurityPreferenceRequest())["SecurityPreference"]
    assert preference["LoginProfilePreference"]["LoginSessionDuration"] == 6

    alice = RamUser.objects.get(account=owner.account, name="alice")
    assert alice.is_console_logon_enabled and alice.must_reset_password
    assert AccessKey.objects.get(access_key_id=issued["AccessKeyId"]).user == alice.user
    assert PolicyAttachment.objects.filter(ram_user=alice).count() == 1
    assert set(AuditEvent.objects.filter(channel="api").values_list("action", flat=True)) == {
        "ram_user.create",
        "console_logon.enable",
        "access_key.create",
        "packet.shown",
        "policy.attach",
    }


def test_the_legacy_sdk_raises_rams_error_codes(legacy_sdk, owner):
    missing = GetUserRequest()
    missing.set_UserName("nobody")
    with pytest.raises(ServerException) as error:
        call(legacy_sdk, missing)
    assert error.value.get_error_code() == "EntityNotExist.User"
    assert error.value.get_http_status() == 404
