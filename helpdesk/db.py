"""Declarative base and column types shared by every feature's models.

Datetimes are stored as UTC and always come back *aware*: SQLite has no time
zone type, so ``UTCDateTime`` normalises on the way in and re-attaches UTC on
the way out; PostgreSQL gets ``timestamptz``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """An aware UTC datetime on every backend; naive input is rejected."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: sa.Dialect, coltype: Any) -> Any:
        """On SQLite, parse the stored text straight to an aware datetime in one step.

        The generic path parses in SQLAlchemy's DATETIME type and then calls
        :meth:`process_result_value`: two Python calls per value, on every
        datetime of every row read.
        """
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        fallback = super().result_processor(dialect, coltype)

        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            if value.__class__ is str:
                try:
                    parsed = datetime.fromisoformat(value)
                except ValueError:
                    return fallback(value) if fallback else value
                return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
            return fallback(value) if fallback else value

        return process


class Base(DeclarativeBase):
    """Base of every model; constraint names are deterministic for migrations."""

    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def configure_sqlite(engine: sa.Engine) -> None:
    """WAL, a busy timeout, foreign keys and a larger cache on every new SQLite connection."""
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # 64 MB of page cache per connection keeps the ticket and message indexes hot during imports.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.close()


def any_of(column: sa.ColumnElement[Any], values: Iterable[Any], dialect: str) -> sa.ColumnElement[bool]:
    """``column IN values`` as a statement whose text does not depend on how many values there are.

    A plain ``IN`` renders one placeholder per value, so every batch compiles
    a new statement and SQLite caps it at 32,766 values.  Instead PostgreSQL
    gets one array parameter (``= ANY(:array)``) and SQLite one JSON array
    unpacked by ``json_each``; both still probe the column's index per value.
    """
    return _any_of(column, sa.bindparam(None, list_param(values, dialect)), dialect)


def any_of_param(column: sa.ColumnElement[Any], name: str, dialect: str) -> sa.ColumnElement[bool]:
    """:func:`any_of` with the values left to a named parameter, for statements built once and reused.

    Pass the values at execution as ``{name: list_param(values, dialect)}``.
    """
    return _any_of(column, sa.bindparam(name), dialect)


def list_param(values: Iterable[Any], dialect: str) -> Any:
    """The parameter value :func:`any_of_param` expects: a list on PostgreSQL, JSON text on SQLite."""
    values = list(values)
    return values if dialect == "postgresql" else json.dumps(values)


def _any_of(column: sa.ColumnElement[Any], param: sa.BindParameter[Any], dialect: str) -> sa.ColumnElement[bool]:
    if dialect == "postgresql":
        param.type = postgresql.ARRAY(column.type)
        return column == sa.any_(param)
    param.type = sa.String()
    listed = sa.func.json_each(param).table_valued("value")
    return column.in_(sa.select(listed.c.value))


# A batch writes the same instants into several tables (a message's sent_at is also its ticket's
# created_at and last_message_at and its clock's started_at; "now" is everywhere), and formatting
# a datetime costs more than any other part of building a row: each instant is formatted once.
_DATETIME_TEXT: dict[datetime, str] = {}
_DATETIME_TEXT_MAX = 50_000


def _datetime_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = _DATETIME_TEXT.get(value)
    if text is None:
        if len(_DATETIME_TEXT) >= _DATETIME_TEXT_MAX:
            _DATETIME_TEXT.clear()
        text = _DATETIME_TEXT[value] = _sqlite_datetime(value)
    return text


def _row_builder(table: sa.Table, keys: list[str], dialect: str) -> Any:
    """A function turning a row dict into the driver's tuple, converting only what needs it.

    SQLite gets datetimes as the text SQLAlchemy's SQLite DATETIME writes (so
    reads parse it back identically); PostgreSQL takes aware datetimes as
    they are.  JSON becomes text on both (cast to json in the SQL).  The
    function is generated once per table and column list as one tuple
    expression: a loop over converters cost more than the conversions.
    """
    return _generated_builder(table, tuple(keys), dialect)


@functools.lru_cache(maxsize=256)
def _generated_builder(table: sa.Table, keys: tuple[str, ...], dialect: str) -> Any:
    parts = []
    for key in keys:
        column_type = table.c[key].type
        if isinstance(column_type, UTCDateTime) and dialect == "sqlite":
            # the cache hit inline; a call only for None-free misses
            parts.append(f"(None if (v := row[{key!r}]) is None else (cached(v) or as_text(v)))")
        elif isinstance(column_type, sa.JSON):
            parts.append(f"as_json(row[{key!r}])")
        elif isinstance(column_type, sa.Numeric) and dialect == "sqlite":
            # as SQLAlchemy's own Numeric binds on SQLite (which has no decimal type)
            parts.append(f"(None if (v := row[{key!r}]) is None else float(v))")
        else:
            parts.append(f"row[{key!r}]")
    source = f"def build(row):\n    return ({', '.join(parts)},)\n"
    namespace: dict[str, Any] = {"as_text": _datetime_text, "cached": _DATETIME_TEXT.get, "as_json": _json_or_none}
    exec(compile(source, f"<row builder for {table.name}>", "exec"), namespace)  # noqa: S102 - keys are column names
    return namespace["build"]


def _sqlite_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(sep=" ", timespec="microseconds")[:26]


def _json_or_none(value: Any) -> str | None:
    if value is None:
        return None
    return "{}" if value == {} else json.dumps(value, ensure_ascii=False)  # most messages carry no meta


def _placeholder(table: sa.Table, key: str, dialect: str) -> str:
    if dialect == "sqlite":
        return "?"
    return "%s::json" if isinstance(table.c[key].type, sa.JSON) else "%s"


def _reserve_ids(connection: sa.Connection, table: sa.Table, count: int) -> list[int]:
    """Take ``count`` ids from a PostgreSQL table's id sequence."""
    stmt = sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)")
    return list(connection.execute(stmt, {"table": table.name, "n": count}).scalars())


def bulk_insert(
    connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], *, return_ids: bool = False
) -> list[int]:
    """executemany ``rows`` (all with the same keys) into ``table``; optionally return new ids in order.

    SQLAlchemy's per-row parameter processing (and, on PostgreSQL, the driver
    re-parsing one huge multi-VALUES statement per batch) costs more than the
    insert itself, so rows go to the driver's executemany directly, with only
    datetimes and JSON converted.  New ids: on PostgreSQL they are taken from
    the table's sequence before inserting; on SQLite the batch holds the one
    write lock and a rowid table gives each new row max(rowid) + 1, so the
    rows got the consecutive ids ending at last_insert_rowid().
    """
    if not rows:
        return []
    dialect = connection.dialect.name
    ids: list[int] = []
    if return_ids and dialect != "sqlite":
        ids = _reserve_ids(connection, table, len(rows))
        rows = [{**row, "id": new_id} for row, new_id in zip(rows, ids, strict=True)]
    keys = list(rows[0])
    build = _row_builder(table, keys, dialect)
    columns = ", ".join(f'"{key}"' for key in keys)
    marks = ", ".join(_placeholder(table, key, dialect) for key in keys)
    sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})'  # noqa: S608 - names from our own metadata
    connection.exec_driver_sql(sql, [build(r) for r in rows])
    if return_ids and dialect == "sqlite":
        last = connection.exec_driver_sql("SELECT last_insert_rowid()").scalar_one()
        ids = list(range(last - len(rows) + 1, last + 1))
    return ids


def bulk_update(
    connection: sa.Connection,
    table: sa.Table,
    rows: list[dict[str, Any]],
    *,
    key: str = "id",
    increments: tuple[str, ...] = (),
) -> None:
    """executemany UPDATE by ``key``; columns in ``increments`` are added to, not replaced."""
    if not rows:
        return
    dialect = connection.dialect.name
    columns = [k for k in rows[0] if k != key]
    build = _row_builder(table, [*columns, key], dialect)

    def assign(c: str) -> str:
        mark = _placeholder(table, c, dialect)
        return f'"{c}" = "{c}" + {mark}' if c in increments else f'"{c}" = {mark}'

    sets = ", ".join(assign(c) for c in columns)
    where = f'"{key}" = {_placeholder(table, key, dialect)}'
    sql = f'UPDATE "{table.name}" SET {sets} WHERE {where}'  # noqa: S608 - names from our own metadata
    connection.exec_driver_sql(sql, [build(r) for r in rows])
