"""How the signed API's statements reach the database (issue 15, item 4). On PostgreSQL they go through libpq's
blocking calls (portal.libpq), prepared once per connection in autocommit, unprepared inside a transaction, and through
psycopg's cursor where it would begin the transaction first; the key's lookup stores the request's nonce in the same
statement, and a request that then fails its signature takes it back out; the nonce's own commit does not wait for the
disk; and the health check asks the socket before it asks the server. On SQLite the same statements run on sqlite3's
cursor, and every test checks what holds there too: the same answers, inside or outside a transaction."""

import select
import uuid
from datetime import timedelta

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.backends.postgresql import base as django_postgresql
from django.utils import timezone

from accounts.models import AccessKey
from accounts.models.access_keys import _access_key_by_id, _access_key_by_id_noting_nonce
from accounts.services.access_keys import set_access_key_status
from portal import libpq, rows
from portal.models import SeenNonce
from portal.signing import _insert_nonce_committed_lazily, remember_nonce
from tests.api.conftest import issue_key, signed_query
from tests.conftest import make_ram_user

pytestmark = pytest.mark.usefixtures("transactional_db")

POSTGRESQL = connection.vendor == "postgresql"


def prepared_here() -> set[str]:
    """The names of this module's statements prepared on the test's connection (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'portal%%'")
        return {name for (name,) in cursor.fetchall()}


def test_a_key_is_found_by_a_statement_prepared_once_and_prepared_again_when_psycopg_drops_it(owner):
    access_key_id, _ = issue_key(owner)
    assert connection.get_autocommit()
    for _ in range(3):
        assert AccessKey.objects.for_signature(access_key_id).user_id == owner.user.pk
    if not POSTGRESQL:
        assert AccessKey.objects.for_signature("LTAI" + "0" * 20) is None
        return
    _, name = libpq._text_and_name(_access_key_by_id())
    assert prepared_here() == {name.decode()}
    connection.connection.execute("DEALLOCATE ALL")  # as psycopg sends after a ROLLBACK
    assert prepared_here() == set()
    assert AccessKey.objects.for_signature(access_key_id).user_id == owner.user.pk
    assert prepared_here() == {name.decode()}


def test_inside_a_transaction_the_statements_see_its_rows_and_prepare_nothing(owner):
    with transaction.atomic():
        access_key_id, _ = issue_key(owner)  # not committed: only this transaction sees it
        assert AccessKey.objects.for_signature(access_key_id).user_id == owner.user.pk
        remember_nonce(access_key_id, "inside", timezone.now())
        if POSTGRESQL:
            assert prepared_here() == set()
        transaction.set_rollback(True)
    assert not AccessKey.objects.filter(access_key_id=access_key_id).exists()
    assert not SeenNonce.objects.filter(nonce="inside").exists()


def test_with_autocommit_off_the_statement_waits_for_the_transaction_that_begins_with_it(owner):
    transaction.set_autocommit(False)
    try:
        remember_nonce("LTAIexample", "uncommitted", timezone.now())
        assert SeenNonce.objects.filter(nonce="uncommitted").exists()
        transaction.rollback()
    finally:
        transaction.set_autocommit(True)
    assert not SeenNonce.objects.filter(nonce="uncommitted").exists()


def test_a_failing_statement_raises_django_s_exception_and_the_connection_goes_on(owner):
    insert = rows.statement(
        lambda columns, table: f"INSERT INTO {table(SeenNonce)} (access_key_id, nonce, seen_at) VALUES (%s, %s, %s)"
    )
    now = rows.adapt_datetime(timezone.now())
    assert rows.execute(insert(), ["LTAIexample", "twice", now]) == 1
    with pytest.raises(IntegrityError):
        rows.execute(insert(), ["LTAIexample", "twice", now])
    assert SeenNonce.objects.filter(nonce="twice").count() == 1
    assert rows.execute(insert(), ["LTAIexample", "after", now]) == 1


def test_a_nonce_s_commit_does_not_wait_for_the_disk_and_nothing_else_changes(owner):
    remember_nonce("LTAIexample", "lazily", timezone.now())
    assert SeenNonce.objects.filter(nonce="lazily").exists()
    if POSTGRESQL:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"  # the setting lasted for the nonce's own transaction only
        assert "set_config('synchronous_commit', 'off', true)" in _insert_nonce_committed_lazily()


def test_the_health_check_asks_the_server_only_when_the_server_has_said_something(owner, monkeypatch):
    AccessKey.objects.exists()  # a connection, idle
    if not POSTGRESQL:
        assert connection.is_usable()
        return

    def round_trip(self):
        raise AssertionError("SELECT 1 sent although the server had said nothing")

    with monkeypatch.context() as patched:
        patched.setattr(django_postgresql.DatabaseWrapper, "is_usable", round_trip)
        assert connection.is_usable()
    backend = connection.connection.info.backend_pid
    # A second session ends this one, as a restart, a failover or an idle timeout would.
    with psycopg.connect(connection.connection.info.dsn, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend])
    select.select([connection.connection.pgconn.socket], [], [], 5)
    assert not connection.is_usable()
    connection.health_check_done = False
    connection.close_if_health_check_failed()  # what Django does at a request's first statement
    assert connection.connection is None
    assert AccessKey.objects.for_signature("LTAI" + uuid.uuid4().hex[:20]) is None  # a new connection answers
    assert connection.connection.info.backend_pid != backend


def get_alice(client, key: tuple[str, str], *, nonce: str, secret: str | None = None, at=None):
    key_id, right_secret = key
    query = signed_query(key_id, secret or right_secret, {"Action": "GetUser", "UserName": "alice"}, nonce=nonce, at=at)
    response = client.post(f"/?{query}")
    return response.status_code, response.json().get("Code", "")


def test_a_forged_request_leaves_its_nonce_free_for_the_key_s_owner(owner, client):
    make_ram_user(owner, "alice")
    key = issue_key(owner)
    assert get_alice(client, key, nonce="n-1", secret="forged") == (400, "SignatureDoesNotMatch")
    assert not SeenNonce.objects.filter(nonce="n-1").exists()
    assert get_alice(client, key, nonce="n-1") == (200, "")
    assert SeenNonce.objects.filter(access_key_id=key[0], nonce="n-1").count() == 1
    assert get_alice(client, key, nonce="n-1") == (400, "SignatureNonceUsed")
    assert get_alice(client, key, nonce="n-1", secret="forged") == (400, "SignatureDoesNotMatch")
    assert SeenNonce.objects.filter(nonce="n-1").count() == 1  # a forger cannot take out a nonce it did not store
    if POSTGRESQL:  # the nonce went with the key's lookup: one statement, prepared once
        _, name = libpq._text_and_name(_access_key_by_id_noting_nonce())
        assert name.decode() in prepared_here()


def test_a_disabled_key_or_a_stale_request_stores_no_nonce(owner, client):
    make_ram_user(owner, "alice")
    key = issue_key(owner)
    stale = timezone.now() - timedelta(minutes=20)
    assert get_alice(client, key, nonce="stale", at=stale) == (400, "InvalidTimeStamp.Expired")
    set_access_key_status(
        actor=owner.actor,
        access_key=AccessKey.objects.get(access_key_id=key[0]),
        is_active=False,
        otp_code=owner.code(),
    )
    assert get_alice(client, key, nonce="disabled") == (400, "InvalidAccessKeyId.Inactive")
    assert get_alice(client, ("LTAI" + "0" * 20, "x"), nonce="unknown") == (404, "InvalidAccessKeyId.NotFound")
    assert not SeenNonce.objects.exists()
