"""The statements every signed request runs, in plain SQL on the driver's connection (portal.rows): they must
answer exactly as the ORM would, with every relation the request touches already fetched (no further query)."""

import inspect
from contextlib import nullcontext
from datetime import datetime
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Field, Model
from django.db.models.expressions import Col
from django.db.models.fields.mixins import FieldCacheMixin
from django.db.transaction import TransactionManagementError
from django.db.utils import DatabaseErrorWrapper
from django.utils import timezone

from accounts.models import AccessKey, PrimaryAccount, RamUser, User
from accounts.services.access_keys import open_secret, set_access_key_status
from portal import rows
from portal.models import SeenNonce
from portal.rows import DJANGO_INTERNALS
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


def assert_same_as_the_orm(found, expected) -> None:
    """Field by field, value and type: what the loader built is what the ORM would have built."""
    assert type(found) is type(expected)
    for field in type(found)._meta.concrete_fields:
        mine, theirs = getattr(found, field.attname), getattr(expected, field.attname)
        assert mine == theirs and type(mine) is type(theirs), (type(found).__name__, field.name, mine, theirs)


def test_every_instance_the_loader_builds_matches_the_orms(owner, ram_admin):
    """AccessKey.for_signature builds a key, its user, the user's own account or RAM user and that user's account;
    RamUser.named builds a RAM user and its user. Each is compared with the ORM's row of the same object."""
    PrimaryAccount.objects.filter(pk=owner.account.pk).update(alias="acme")  # a nullable column with a value
    User.objects.filter(pk=ram_admin.user.pk).update(last_login=timezone.now())  # and one that was NULL
    owner_key_id, _ = issue_key(owner)
    admin_key_id, _ = issue_key(ram_admin)
    owner_key = AccessKey.objects.for_signature(owner_key_id)
    assert_same_as_the_orm(owner_key, AccessKey.objects.get(access_key_id=owner_key_id))
    assert_same_as_the_orm(owner_key.user, User.objects.get(pk=owner.user.pk))
    assert_same_as_the_orm(owner_key.user.owned_account, PrimaryAccount.objects.get(pk=owner.account.pk))
    admin_key = AccessKey.objects.for_signature(admin_key_id)
    assert_same_as_the_orm(admin_key.user, User.objects.get(pk=ram_admin.user.pk))
    assert_same_as_the_orm(admin_key.user.ram_user, RamUser.objects.get(pk=ram_admin.ram_user.pk))
    assert_same_as_the_orm(admin_key.user.ram_user.account, PrimaryAccount.objects.get(pk=owner.account.pk))
    named = RamUser.objects.named(account=owner.account, name="admin")
    assert_same_as_the_orm(named, RamUser.objects.get(pk=ram_admin.ram_user.pk))
    assert_same_as_the_orm(named.user, User.objects.get(pk=ram_admin.user.pk))


def test_the_django_internals_the_loader_relies_on_are_there():
    homes = {
        "BaseDatabaseWrapper": BaseDatabaseWrapper,
        "BaseDatabaseOperations": BaseDatabaseOperations,
        "Field": Field,
        "FieldCacheMixin": FieldCacheMixin,
        "Col": Col,
        "Model": Model,
    }
    for home, names in DJANGO_INTERNALS.items():
        for name in names:
            assert callable(getattr(homes[home], name, None)) or name == "wrap_database_errors", f"{home}.{name}"
    assert isinstance(connection.wrap_database_errors, DatabaseErrorWrapper)
    from_db = inspect.signature(Model.from_db).parameters
    assert list(from_db)[:3] == ["db", "field_names", "values"]  # what the loader passes, by position
    assert all(parameter.default is not inspect.Parameter.empty for parameter in list(from_db.values())[3:])
    assert list(inspect.signature(Field.get_col).parameters)[:2] == ["self", "alias"]
    column = AccessKey._meta.get_field("created_at").get_col(AccessKey._meta.db_table)
    assert isinstance(connection.ops.get_db_converters(column), list)


def test_the_cursor_is_closed_when_reading_the_result_fails():
    closed = []

    class FailingCursor:
        description = None

        def execute(self, sql, params):
            pass

        @property
        def rowcount(self):
            raise RuntimeError("the driver failed")

        def close(self):
            closed.append(True)

    driver = SimpleNamespace(cursor=FailingCursor)
    with pytest.raises(RuntimeError):
        rows._run_on_cursor(SimpleNamespace(connection=driver, wrap_database_errors=nullcontext()), "UPDATE x", [])
    assert closed == [True]
