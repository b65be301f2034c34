"""PostgreSQL's side of portal.rows: the signed API's few statements sent with libpq's own blocking calls, through
psycopg's wrapper of libpq (`psycopg.pq`), each prepared once per connection.

psycopg's cursor spends about 90 µs of Python on every statement (its non-blocking wait loop, generators and
bookkeeping) where libpq's blocking call through the same wrapper spends about 25 µs; on a signed call, which runs
three statements, that was a fifth of the server's time (benchmarks/signed_api.py). Everything else stays psycopg's:
the connection, its adapters (its Transformer turns the parameters into PostgreSQL's text and the row back into Python
values, as its cursor would), and its errors, raised from the result so that Django's wrapper maps them as it maps any
other statement's.

The statements run this way only where psycopg's cursor would send nothing first: with autocommit on (prepared there),
or inside a transaction that has begun (unprepared there). With autocommit off and no transaction begun yet,
psycopg's cursor sends BEGIN ahead of the statement: portal.rows then uses the cursor.
"""

import hashlib
import re
import weakref
from typing import Any

import psycopg
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer


class _State:
    """What this module keeps per psycopg connection: its Transformer (as a psycopg cursor keeps one for all its
    statements) and the names of this module's statements prepared on it. psycopg itself may drop those (it sends
    DEALLOCATE ALL after a ROLLBACK, DISCARD ALL or DDL): then the next run prepares again."""

    def __init__(self, raw: "psycopg.Connection[Any]") -> None:
        self.transformer = Transformer(raw)
        self.prepared: set[bytes] = set()


_states: "weakref.WeakKeyDictionary[psycopg.Connection[Any], _State]" = weakref.WeakKeyDictionary()
# A statement with %s placeholders → (its text as libpq takes it, with $1, $2, …; the name it is prepared under).
_texts: dict[str, tuple[bytes, bytes]] = {}

_SUCCESS = (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK)
_NO_SUCH_STATEMENT = "26000"  # invalid_sql_statement_name: the prepared statement is not there (any more)


def _text_and_name(sql: str) -> tuple[bytes, bytes]:
    if sql not in _texts:
        counter = iter(range(1, sql.count("%s") + 1))
        numbered = re.sub("%s", lambda _: f"${next(counter)}", sql)
        _texts[sql] = numbered.encode(), b"portal_" + hashlib.sha256(numbered.encode()).hexdigest()[:16].encode()
    return _texts[sql]


def run(connection: BaseDatabaseWrapper, sql: str, params: Any) -> tuple[tuple[Any, ...] | None, int] | None:
    """The statement's first row (None when it returned none) and how many rows it returned or changed; None when
    this connection's state needs psycopg's cursor (see the module's note)."""
    raw: psycopg.Connection[Any] = connection.connection
    pgconn = raw.pgconn
    status = pgconn.transaction_status
    if not (status == pq.TransactionStatus.INTRANS or (status == pq.TransactionStatus.IDLE and raw.autocommit)):
        return None
    state = _states.get(raw) or _states.setdefault(raw, _State(raw))
    transformer = state.transformer
    values = transformer.dump_sequence(params, [PyFormat.AUTO] * len(params))
    with connection.wrap_database_errors:
        result = _execute(raw, sql, values, state)
        if result.status not in _SUCCESS:
            raise errors.error_from_result(result, encoding=raw.info.encoding)
    row = None
    if result.status == pq.ExecStatus.TUPLES_OK and result.ntuples:
        transformer.set_pgresult(result)
        row = transformer.load_row(0, tuple)
    return row, result.command_tuples or 0


def _execute(raw: "psycopg.Connection[Any]", sql: str, values: Any, state: _State) -> pq.abc.PGresult:
    pgconn, transformer = raw.pgconn, state.transformer
    query, name = _text_and_name(sql)
    if raw.prepare_threshold is None or pgconn.transaction_status != pq.TransactionStatus.IDLE:
        # Unprepared: prepared statements are off (DB_PREPARE_THRESHOLD=0, behind a pooler), or a transaction is
        # open, where finding the statement dropped (see _State) would doom the transaction.
        return pgconn.exec_params(query, values, transformer.types, transformer.formats)
    known = state.prepared
    if name in known:
        result = pgconn.exec_prepared(name, values, transformer.formats)
        if result.error_field(pq.DiagnosticField.SQLSTATE) != _NO_SUCH_STATEMENT.encode():
            return result
        known.discard(name)  # dropped since: prepared again below (autocommit: nothing was doomed)
    prepared = pgconn.prepare(name, query, transformer.types)
    if prepared.status != pq.ExecStatus.COMMAND_OK:
        return prepared
    known.add(name)
    return pgconn.exec_prepared(name, values, transformer.formats)
