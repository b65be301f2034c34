"""The statements every signed request runs, in plain SQL on the driver's connection (portal.rows): they must
answer exactly as the ORM would, with every relation the request touches already fetched (no further query)."""

from datetime import datetime

import pytest
from django.db import transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from accounts.models import AccessKey, RamUser
from accounts.services.access_keys import open_secret, set_access_key_status
from portal.models import SeenNonce
from portal.signing import SignatureError, remember_nonce
from tests.api.conftest import issue_key
from tests.conftest import make_ram_user


def test_an_owner_key_comes_with_its_holder_and_account(owner, owner_key, django_assert_num_queries):
    access_key_id, secret = owner_key
    found = AccessKey.objects.for_signature(access_key_id)
    with django_assert_num_queries(0):
        user = found.user
        assert user.is_owner
        assert user.account.account_id == owner.account.account_id
        assert user.principal == f"ALIYUN${owner.account.account_id}"
        assert open_secret(found) == secret
    expected = AccessKey.objects.get(access_key_id=access_key_id)
    for field in AccessKey._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert isinstance(found.created_at, datetime)
    assert timezone.is_aware(found.created_at)
    assert found.is_active is True


def test_a_ram_user_key_comes_with_the_ram_user_and_its_account(owner, ram_admin, django_assert_num_queries):
    access_key_id, _ = issue_key(ram_admin)
    found = AccessKey.objects.for_signature(access_key_id)
    with django_assert_num_queries(0):
        user = found.user
        assert not user.is_owner
        assert user.ram_user.name == "admin"
        assert user.account.pk == owner.account.pk
        assert user.principal == f"RAM${owner.account.account_id}:admin"
        assert user.ram_user.is_console_logon_enabled is True


def test_an_unknown_key_is_none_and_a_disabled_one_says_so(owner, owner_key):
    access_key_id, _ = owner_key
    assert AccessKey.objects.for_signature("LTAI" + "0" * 20) is None
    set_access_key_status(
        actor=owner.actor,
        access_key=AccessKey.objects.get(access_key_id=access_key_id),
        is_active=False,
        otp_code=owner.code(),
    )
    assert AccessKey.objects.for_signature(access_key_id).is_active is False


@pytest.mark.parametrize("asked", ["alice", "ALICE", "Alice"])
def test_a_ram_user_is_found_by_name_in_any_case_with_its_identity(owner, ram_user, asked, django_assert_num_queries):
    found = RamUser.objects.named(account=owner.account, name=asked)
    with django_assert_num_queries(0):
        assert found.pk == ram_user.ram_user.pk
        assert found.user.last_login is None
        assert found.user.ram_user is found
        assert found.account is owner.account
        assert found.logon_name == ram_user.ram_user.logon_name
    assert timezone.is_aware(found.created_at)


def test_another_account_s_user_is_not_found_by_name(owner, other_ram_user):
    assert RamUser.objects.named(account=owner.account, name="mallory") is None


def test_a_nonce_is_taken_once_and_a_refusal_leaves_the_transaction_usable(owner):
    now = timezone.now()
    remember_nonce("LTAIexample", "n-1", now)
    remember_nonce("LTAIother", "n-1", now)  # the same nonce under another key is another request
    with transaction.atomic():
        with pytest.raises(SignatureError) as refused:
            remember_nonce("LTAIexample", "n-1", now)
        assert refused.value.code == "SignatureNonceUsed"
        assert SeenNonce.objects.filter(nonce="n-1").count() == 2  # the transaction still answers
    stored = SeenNonce.objects.get(access_key_id="LTAIexample", nonce="n-1")
    assert stored.seen_at == now


def test_a_name_that_only_lowers_to_a_user_s_name_in_python_finds_nobody(owner):
    make_ram_user(owner, "karen")
    assert RamUser.objects.named(account=owner.account, name="KAREN").name == "karen"
    assert RamUser.objects.named(account=owner.account, name="\u212aaren") is None  # KELVIN SIGN + "aren"


def test_a_statement_is_refused_in_a_transaction_that_a_failure_has_doomed(owner):
    with transaction.atomic():
        transaction.set_rollback(True)
        with pytest.raises(TransactionManagementError):
            remember_nonce("LTAIexample", "n-2", timezone.now())
    assert not SeenNonce.objects.filter(nonce="n-2").exists()
