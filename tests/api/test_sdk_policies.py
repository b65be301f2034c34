"""System policies through the RAM OpenAPI: listing with paging, attaching and detaching."""

import pytest
from alibabacloud_ram20150501 import models as ram
from Tea.exceptions import TeaException

from accounts.models import PolicyAttachment
from accounts.policies import SYSTEM_POLICIES
from portal.models import AuditEvent
from tests.conftest import make_ram_user

NAMES = sorted(policy.name for policy in SYSTEM_POLICIES)


def test_list_the_system_policies_with_paging(sdk, owner):
    make_ram_user(owner, "alice", policies=("AliyunRAMReadOnlyAccess",))
    first = sdk.list_policies(ram.ListPoliciesRequest(policy_type="System", max_items=3)).body
    assert [policy.policy_name for policy in first.policies.policy] == NAMES[:3]
    assert first.is_truncated and first.marker
    second = sdk.list_policies(ram.ListPoliciesRequest(max_items=3, marker=first.marker)).body
    assert [policy.policy_name for policy in second.policies.policy] == NAMES[3:]
    assert not second.is_truncated

    everything = {
        policy.policy_name: policy for policy in sdk.list_policies(ram.ListPoliciesRequest()).body.policies.policy
    }
    assert set(everything) == set(NAMES)
    assert everything["AliyunRAMReadOnlyAccess"].attachment_count == 1
    assert everything["AdministratorAccess"].attachment_count == 0
    assert {policy.policy_type for policy in everything.values()} == {"System"}
    assert all(policy.description for policy in everything.values())
    assert sdk.list_policies(ram.ListPoliciesRequest(policy_type="Custom")).body.policies.policy == []


def test_attach_list_and_detach_a_policy(owner_sdk, owner):
    alice = make_ram_user(owner, "alice")
    owner_sdk.attach_policy_to_user(
        ram.AttachPolicyToUserRequest(policy_type="System", policy_name="AliyunDataWorksFullAccess", user_name="alice")
    )
    assert list(PolicyAttachment.objects.filter(ram_user=alice.ram_user).values_list("policy_name", flat=True)) == [
        "AliyunDataWorksFullAccess"
    ]
    event = AuditEvent.objects.get(action="policy.attach")
    assert event.channel == "api" and event.target == alice.ram_user.principal
    assert event.details == {"policy": "AliyunDataWorksFullAccess"}

    listed = owner_sdk.list_policies_for_user(ram.ListPoliciesForUserRequest(user_name="alice")).body.policies.policy
    assert [(policy.policy_name, policy.policy_type) for policy in listed] == [("AliyunDataWorksFullAccess", "System")]
    assert listed[0].attach_date

    with pytest.raises(TeaException) as twice:
        owner_sdk.attach_policy_to_user(
            ram.AttachPolicyToUserRequest(
                policy_type="System", policy_name="AliyunDataWorksFullAccess", user_name="alice"
            )
        )
    assert twice.value.code == "EntityAlreadyExists.User.Policy"

    owner_sdk.detach_policy_from_user(
        ram.DetachPolicyFromUserRequest(
            policy_type="System", policy_name="AliyunDataWorksFullAccess", user_name="alice"
        )
    )
    assert not PolicyAttachment.objects.filter(ram_user=alice.ram_user).exists()
    assert AuditEvent.objects.filter(action="policy.detach", channel="api").count() == 1


def test_policy_errors(owner_sdk, owner):
    alice = make_ram_user(owner, "alice")
    for policy_type, policy_name in (("System", "NoSuchPolicy"), ("Custom", "AdministratorAccess")):
        with pytest.raises(TeaException) as unknown:
            owner_sdk.attach_policy_to_user(
                ram.AttachPolicyToUserRequest(policy_type=policy_type, policy_name=policy_name, user_name="alice")
            )
        assert unknown.value.code == "EntityNotExist.Policy"
    with pytest.raises(TeaException) as kind:
        owner_sdk.attach_policy_to_user(
            ram.AttachPolicyToUserRequest(policy_type="Mine", policy_name="AdministratorAccess", user_name="alice")
        )
    assert kind.value.code == "InvalidParameter.PolicyType"
    with pytest.raises(TeaException) as nobody:
        owner_sdk.attach_policy_to_user(
            ram.AttachPolicyToUserRequest(policy_type="System", policy_name="AdministratorAccess", user_name="nobody")
        )
    assert nobody.value.code == "EntityNotExist.User"
    with pytest.raises(TeaException) as not_attached:
        owner_sdk.detach_policy_from_user(
            ram.DetachPolicyFromUserRequest(policy_type="System", policy_name="AdministratorAccess", user_name="alice")
        )
    assert not_attached.value.code == "EntityNotExist.User.Policy"
    assert not PolicyAttachment.objects.filter(ram_user=alice.ram_user).exists()
    assert not AuditEvent.objects.filter(action__startswith="policy.").exists()
