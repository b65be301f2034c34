"""Signed requests that must be refused, each changing nothing: replays, stale times, unknown, inactive and
wrongly signed keys."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from alibabacloud_ram20150501 import models as ram
from django.test import Client
from Tea.exceptions import TeaException

from accounts.models import AccessKey, RamUser
from tests.api.conftest import ram_client, signed_query
from tests.db_state import database_state

CREATE_ALICE = {"Action": "CreateUser", "UserName": "alice", "DisplayName": "Alice"}


def everything() -> dict:
    """The database as these tests see it: everything, nonces and keys' use included."""
    return database_state(with_request_records=True)


def test_a_replayed_request_is_refused(owner, owner_key):
    client = Client()
    query = signed_query(*owner_key, CREATE_ALICE)
    first = client.post(f"/?{query}")
    assert first.status_code == 200, first.content
    assert RamUser.objects.filter(account=owner.account, name="alice").count() == 1
    RamUser.objects.filter(account=owner.account, name="alice").update(display_name="Changed since")
    before = everything()

    replayed = client.post(f"/?{query}")
    assert replayed.status_code == 400 and replayed.json()["Code"] == "SignatureNonceUsed"
    assert everything() == before


def test_a_request_signed_twenty_minutes_ago_is_refused(owner, owner_key):
    before = everything()
    stale = Client().post(f"/?{signed_query(*owner_key, CREATE_ALICE, at=datetime.now(UTC) - timedelta(minutes=20))}")
    assert stale.status_code == 400 and stale.json()["Code"] == "InvalidTimeStamp.Expired"
    early = Client().post(f"/?{signed_query(*owner_key, CREATE_ALICE, at=datetime.now(UTC) + timedelta(minutes=20))}")
    assert early.json()["Code"] == "InvalidTimeStamp.Expired"
    assert everything() == before
    # Within the window a clock that is a little off is fine.
    fine = Client().post(f"/?{signed_query(*owner_key, CREATE_ALICE, at=datetime.now(UTC) - timedelta(minutes=14))}")
    assert fine.status_code == 200 and fine.json()["User"]["UserName"] == "alice"
    assert RamUser.objects.filter(account=owner.account, name="alice").count() == 1


def test_a_tampered_parameter_breaks_the_signature(owner, owner_key):
    before = everything()
    query = signed_query(*owner_key, CREATE_ALICE).replace("UserName=alice", "UserName=mallory")
    answer = Client().post(f"/?{query}")
    assert answer.status_code == 400 and answer.json()["Code"] == "SignatureDoesNotMatch"
    assert everything() == before


@pytest.mark.parametrize("algorithm", [None, "v2"])
def test_unknown_inactive_and_wrongly_signed_keys_are_refused(live_server, owner, owner_key, algorithm):
    key_id, secret = owner_key
    before = everything()
    for client, code in (
        (
            ram_client(live_server, "LTAI" + "0" * 20, secret, signature_algorithm=algorithm),
            "InvalidAccessKeyId.NotFound",
        ),
        (ram_client(live_server, key_id, secret[::-1], signature_algorithm=algorithm), "SignatureDoesNotMatch"),
    ):
        with pytest.raises(TeaException) as refused:
            client.create_user(ram.CreateUserRequest(user_name="alice", display_name="Alice"))
        assert refused.value.code == code
    assert everything() == before

    AccessKey.objects.filter(access_key_id=key_id).update(status=AccessKey.Status.INACTIVE)
    before = everything()
    with pytest.raises(TeaException) as inactive:
        ram_client(live_server, key_id, secret, signature_algorithm=algorithm).create_user(
            ram.CreateUserRequest(user_name="alice", display_name="Alice")
        )
    assert inactive.value.code == "InvalidAccessKeyId.Inactive"
    assert everything() == before


def test_a_signed_call_for_a_host_the_portal_does_not_serve_is_refused(owner, owner_key):
    before = everything()
    answer = Client(HTTP_HOST="attacker.invalid").post(f"/?{signed_query(*owner_key, CREATE_ALICE)}")
    assert answer.status_code == 400
    assert everything() == before


def test_answers_say_their_length(owner, owner_key):
    answer = Client().post(f"/?{signed_query(*owner_key, {'Action': 'GetAccountAlias'})}")
    assert answer.status_code == 200
    assert int(answer["Content-Length"]) == len(answer.content)


@pytest.mark.parametrize("header", ["HTTP_AUTHORIZATION", "HTTP_X_ACS_SIGNATURE_NONCE"])
def test_a_nul_in_a_signing_header_is_a_ram_error_and_changes_nothing(owner, owner_key, header):
    before = everything()
    value = "ACS3-HMAC-SHA256 Credential=LTAI\x00x,SignedHeaders=host,Signature=00" if "AUTH" in header else "n\x00"
    answer = Client().post("/?Action=GetUser&Version=2015-05-01&UserName=alice", **{header: value})
    assert answer.status_code == 400 and answer.json()["Code"] == "InvalidParameter"
    assert everything() == before


CANARY_PASSWORD = "Canary-Quartz-Lantern-6481"


def test_a_refused_signature_names_the_string_the_server_signed_without_secrets(owner, owner_key):
    key_id, secret = owner_key
    params = {"Action": "CreateLoginProfile", "UserName": "alice", "Password": CANARY_PASSWORD}
    answer = Client().post(f"/?{signed_query(key_id, secret[::-1], params)}").json()
    assert answer["Code"] == "SignatureDoesNotMatch"
    prefix = "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&"
    assert answer["Message"].startswith(prefix)
    assert f"AccessKeyId%3D{key_id}" in answer["Message"] and "Action%3DCreateLoginProfile" in answer["Message"]
    assert CANARY_PASSWORD not in answer["Message"] and "Password%3D%2A%2A%2A%2A%2A%2A%2A%2A" in answer["Message"]


def test_an_acs3_refusal_names_its_string_to_sign_and_canonical_request(live_server, owner, owner_key):
    key_id, secret = owner_key
    client = ram_client(live_server, key_id, secret[::-1])
    with pytest.raises(TeaException) as refused:
        client.create_login_profile(ram.CreateLoginProfileRequest(user_name="alice", password=CANARY_PASSWORD))
    message = refused.value.message
    assert refused.value.code == "SignatureDoesNotMatch"
    assert re.search(r"server string to sign is:ACS3-HMAC-SHA256\n[0-9a-f]{64} \(canonical request: ", message)
    assert "Password=********" in message and CANARY_PASSWORD not in message
