"""A rate limit per AccessKey (issue 16, item 5): beyond PORTAL_API_CALLS_PER_SECOND calls in a second, a correctly
signed call gets RAM's `Throttling.User` with the header after which the official SDKs retry; only the calls the
key signed count, a throttled call leaves nothing behind, and other keys are not held up."""

from datetime import timedelta

import pytest
import time_machine
from alibabacloud_ram20150501 import models as ram
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.exceptions import ThrottlingException
from darabonba.core import DaraCore
from darabonba.policy.retry import RetryOptions
from django.test import Client
from django.utils import timezone

from portal.models import SeenNonce
from tests.api.conftest import issue_key, ram_client, signed_query
from tests.conftest import make_ram_user

GET_CALLER_IDENTITY = {"Action": "GetCallerIdentity", "Version": "2015-04-01"}


@pytest.fixture
def limit_of_three(settings):
    settings.PORTAL_API_CALLS_PER_SECOND = 3


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def call(key, params=GET_CALLER_IDENTITY, **signing):
    return Client().post(f"/?{signed_query(*key, params, **signing)}")


def test_the_call_beyond_the_limit_is_throttled_until_the_second_has_passed(owner, owner_key, limit_of_three, clock):
    assert [call(owner_key).status_code for _ in range(3)] == [200, 200, 200]
    nonces = SeenNonce.objects.count()
    query = signed_query(*owner_key, GET_CALLER_IDENTITY)
    throttled = Client().post(f"/?{query}")
    assert throttled.status_code == 400
    body = throttled.json()
    assert (body["Code"], body["Message"]) == ("Throttling.User", "Request was denied due to user flow control.")
    assert body["RequestId"] and body["HostId"] == "ram.aliyuncs.com"
    assert (throttled["x-acs-retry-after"], throttled["Retry-After"]) == ("1000", "1")
    assert SeenNonce.objects.count() == nonces  # a throttled call is not counted, and its nonce is free again

    clock.shift(timedelta(milliseconds=999))
    assert call(owner_key).json()["Code"] == "Throttling.User"  # the first three are still within the second
    clock.shift(timedelta(milliseconds=2))
    again = Client().post(f"/?{query}")  # the very request that was throttled, sent again
    assert again.status_code == 200, again.json()
    assert again.json()["IdentityType"] == "Account"


def test_each_key_has_its_own_limit(owner, owner_key, limit_of_three, clock):
    alice = make_ram_user(owner, "alice")
    alice_key, second_owner_key = issue_key(alice), issue_key(owner)
    for _ in range(3):
        assert call(owner_key).status_code == 200
    assert call(owner_key).json()["Code"] == "Throttling.User"
    assert call(second_owner_key).status_code == 200  # the same account, another key
    assert call(alice_key).json()["IdentityType"] == "RAMUser"


def test_a_forger_cannot_use_up_a_key_s_calls_and_learns_nothing_of_them(owner, owner_key, limit_of_three, clock):
    key_id, _ = owner_key
    forged = [call((key_id, "not-the-secret")).json()["Code"] for _ in range(5)]
    assert forged == ["SignatureDoesNotMatch"] * 5
    assert [call(owner_key).status_code for _ in range(3)] == [200, 200, 200]
    # Over the limit, a wrong signature is still told it is wrong (the signature is checked first).
    assert call((key_id, "not-the-secret")).json()["Code"] == "SignatureDoesNotMatch"
    assert call(owner_key).json()["Code"] == "Throttling.User"


def test_calls_refused_for_other_reasons_count_once_signed(owner, limit_of_three, clock):
    """A correctly signed call counts whatever its answer (NoPermission too): the limit is on what a key sends."""
    alice = make_ram_user(owner, "alice")  # no policy
    key = issue_key(alice)
    list_users = {"Action": "ListUsers", "Version": "2015-05-01"}
    assert [call(key, list_users).json()["Code"] for _ in range(3)] == ["NoPermission"] * 3
    assert call(key, list_users).json()["Code"] == "Throttling.User"


def test_no_limit_when_set_to_zero(owner, owner_key, settings, clock):
    settings.PORTAL_API_CALLS_PER_SECOND = 0
    assert {call(owner_key).status_code for _ in range(8)} == {200}


@pytest.mark.parametrize("algorithm", [None, "v2"], ids=["acs3", "v2"])
def test_the_official_sdk_sees_a_throttling_error_and_retries_after_the_wait(
    live_server, owner, owner_key, limit_of_three, clock, monkeypatch, algorithm
):
    """The SDK's ThrottlingException carries the wait; with retry options for it, the SDK waits (on the faked clock:
    its sleep moves the clock) and its retry goes through."""
    waits: list[int] = []

    def sleep(milliseconds: int) -> None:
        waits.append(milliseconds)
        clock.shift(timedelta(milliseconds=milliseconds))

    monkeypatch.setattr(DaraCore, "sleep", staticmethod(sleep))
    plain = ram_client(live_server, *owner_key, signature_algorithm=algorithm)
    for _ in range(3):
        plain.list_users(ram.ListUsersRequest())
    with pytest.raises(ThrottlingException) as throttled:
        plain.list_users(ram.ListUsersRequest())
    assert (throttled.value.code, throttled.value.retry_after) == ("Throttling.User", 1000)

    retrying = RetryOptions(
        {"retryable": True, "retryCondition": [{"exception": ["ThrottlingException"], "maxAttempts": 3}]}
    )
    sts = ram_client(live_server, *owner_key, signature_algorithm=algorithm, product=StsClient, retry_options=retrying)
    identity = sts.get_caller_identity().body
    assert identity.identity_type == "Account"
    assert waits == [1000]
