"""Model instances from plain SQL, for the few statements that every signed API request runs.

On a signed call the ORM's compiling of a query costs ten to thirty times its running (0.3 to 1 ms against
about 30 µs for the same row), and even Django's cursor wrapper doubles the cost of a simple statement; the
API's throughput target (SPEC §7) leaves room for neither. The statements on that path are therefore
written in SQL once per database vendor, with their column lists taken from the models' metadata, and run
on the driver's connection (errors still arrive as Django's database exceptions). Their rows become
ordinary model instances: the database's converters are applied and the fetched relations are cached as
`select_related` caches them, so the code that receives them cannot tell the difference and makes no
further query. Being below Django's cursor, these statements do not appear in `connection.queries`.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.db.models.expressions import Col
from django.db.models.fields.mixins import FieldCacheMixin

from portal import libpq

# A row's parameters, as the driver takes them.
Params = Sequence[object]
# What a statement's builder is given: `columns(Model, alias)` and `table(Model)`.
Columns = Callable[[type[Model], str], str]
Table = Callable[[type[Model]], str]
# The driver's own cursor (sqlite3's or psycopg's): below Django's types.
Cursor = Any

# The parts of Django below its public API that these statements rely on (tests/api/test_signed_request_reads.py
# checks each of them against the installed Django, so that an upgrade that changes one fails loudly there).
DJANGO_INTERNALS = {
    "BaseDatabaseWrapper": (
        "validate_thread_sharing",
        "close_if_health_check_failed",
        "ensure_connection",
        "validate_no_broken_transaction",
        "wrap_database_errors",
    ),
    "BaseDatabaseOperations": ("get_db_converters", "adapt_datetimefield_value", "quote_name"),
    "Field": ("get_col",),
    "FieldCacheMixin": ("set_cached_value",),
    "Col": ("get_db_converters",),
    "Model": ("from_db",),
}


def _connection() -> BaseDatabaseWrapper:
    # Once per call: each attribute read on django.db.connection goes through a context-local lookup.
    return connections[DEFAULT_DB_ALIAS]


def _column_name(field: "Field[Any, Any]") -> str:
    assert field.column is not None, "a concrete field has a column: that is what concrete means to Django"
    return field.column


def statement(build: Callable[[Columns, Table], str]) -> Callable[[], str]:
    """Decorates `build(columns, table)`, which writes one SQL statement with `%s` for each parameter: the
    statement in the driver's own parameter style, built once per database vendor. `columns(Model, alias)`
    lists a model's concrete fields under a table alias (in the order `fetch_instances` reads them);
    `table(Model)` names the model's table."""
    built: dict[str, str] = {}

    def sql() -> str:
        connection = _connection()
        if connection.vendor not in built:
            quote = connection.ops.quote_name

            def columns(model: type[Model], alias: str) -> str:
                return ", ".join(f"{alias}.{quote(_column_name(field))}" for field in model._meta.concrete_fields)

            text = build(columns, lambda model: quote(model._meta.db_table))
            if connection.vendor == "sqlite":  # sqlite3 takes "?" where Django's cursor would turn %s into one
                text = text.replace("%s", "?")
            built[connection.vendor] = text
        return built[connection.vendor]

    return sql


def _checked(connection: BaseDatabaseWrapper) -> None:
    # The checks Django's own cursor makes before each statement: the connection belongs to this thread,
    # it is alive, and no failed statement has doomed the transaction it would run in.
    connection.validate_thread_sharing()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    connection.validate_no_broken_transaction()


def _run_on_cursor(connection: BaseDatabaseWrapper, sql: str, params: Params) -> tuple[tuple[Any, ...] | None, int]:
    cursor = connection.connection.cursor()
    try:
        with connection.wrap_database_errors:
            cursor.execute(sql, params)
            return (cursor.fetchone() if cursor.description else None), cursor.rowcount
    finally:
        cursor.close()


def _run(connection: BaseDatabaseWrapper, sql: str, params: Params) -> tuple[tuple[Any, ...] | None, int]:
    """The statement's first row (None when it returns none) and the number of rows it returned or changed."""
    _checked(connection)
    if connection.vendor == "postgresql":
        found = libpq.run(connection, sql, params)
        if found is not None:
            return found
    return _run_on_cursor(connection, sql, params)


# (model, vendor) → the field names, the primary key's position and, by position, the converters the ORM
# would apply to each column.
_Converter = Callable[[Any, Col, BaseDatabaseWrapper], Any]
_readers: dict[tuple[type[Model], str], tuple[list[str], int, list[tuple[int, list[_Converter], Col]]]] = {}


def _reader(
    model: type[Model], connection: BaseDatabaseWrapper
) -> tuple[list[str], int, list[tuple[int, list[_Converter], Col]]]:
    key = (model, connection.vendor)
    if key not in _readers:
        fields = model._meta.concrete_fields
        converters: list[tuple[int, list[_Converter], Col]] = []
        for position, field in enumerate(fields):
            column = field.get_col(model._meta.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((position, found, column))
        names = [field.attname for field in fields]
        _readers[key] = (names, names.index(model._meta.pk.attname), converters)
    return _readers[key]


def fetch_instances(sql: str, params: Params, *models: type[Model]) -> list[Model | None] | None:
    """The first row of `sql` as one instance per model, from consecutive runs of columns (as `columns`
    lays them out); None for a model whose primary key is NULL (an outer join that found nothing). None
    when there is no row."""
    found = fetch_instances_and_rest(sql, params, *models)
    return None if found is None else found[0]


def fetch_instances_and_rest(
    sql: str, params: Params, *models: type[Model]
) -> tuple[list[Model | None], tuple[Any, ...]] | None:
    """As `fetch_instances`, with the row's columns after the models' (what the statement adds to them)."""
    connection = _connection()
    row, _ = _run(connection, sql, params)
    if row is None:
        return None
    made: list[Model | None] = []
    start = 0
    for model in models:
        names, pk_position, converters = _reader(model, connection)
        values = list(row[start : start + len(names)])
        start += len(names)
        if values[pk_position] is None:
            made.append(None)
            continue
        for position, found, column in converters:
            for converter in found:
                values[position] = converter(values[position], column, connection)
        made.append(model.from_db(connection.alias, names, values))
    return made, tuple(row[start:])


def execute(sql: str, params: Params) -> int:
    """Runs one statement; the number of rows it changed."""
    return _run(_connection(), sql, params)[1]


def adapt_datetime(value: datetime) -> object:
    """`value` as the driver takes it for a DateTimeField column."""
    return _connection().ops.adapt_datetimefield_value(value)


def cache_relation(instance: Model, name: str, value: Model | None) -> None:
    """Records `instance.<name>` as fetched, as `select_related` does (None: known to be absent)."""
    field = instance._meta.get_field(name)
    if not isinstance(field, FieldCacheMixin):
        raise TypeError(f"{type(instance).__name__}.{name} is not a relation")
    field.set_cached_value(instance, value)


def instance_of[M: Model](model: type[M], made: Model | None) -> M:
    """One of `fetch_instances`' instances that the statement's inner join guarantees, as its model."""
    if not isinstance(made, model):
        raise TypeError(f"expected a {model.__name__}, the statement gave {made!r}")
    return made


def optional_instance_of[M: Model](model: type[M], made: Model | None) -> M | None:
    """One of `fetch_instances`' instances from an outer join: None when the join found nothing."""
    return None if made is None else instance_of(model, made)
