"""Bulk writes straight to the driver, for the hot paths (meter ingest, the billing run).

SQLAlchemy's executemany processes every parameter of every row in Python (a third of the
ingest time in bench/ingest.py's profile). These helpers render their SQL once and hand the
driver plain tuples; the values must already be in the driver's form, which the converters
below produce exactly as the tables' SQLAlchemy types would (naive UTC text on SQLite).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Integer, String, Table, Uuid
from sqlalchemy import Connection as SqlConnection
from sqlalchemy.exc import IntegrityError

from prepaidgrid.adapters.db.tables import UtcDateTime

MULTI_ROW_LIMIT = 500  # rows per INSERT ... VALUES (...), (...) RETURNING statement


def sqlite_instant(value: datetime) -> str:
    """What UtcDateTime stores on SQLite: naive UTC, always with microseconds."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: store aware UTC instants only")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def pg_instant(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: store aware UTC instants only")
    return value


def instant_for(db: SqlConnection) -> Callable[[datetime], Any]:
    return sqlite_instant if db.dialect.name == "sqlite" else pg_instant


@cache
def insert_sql(
    dialect: str, table: str, columns: tuple[str, ...], rows: int = 1, returning: str = ""
) -> str:
    mark = "?" if dialect == "sqlite" else "%s"
    one = "(" + ", ".join([mark] * len(columns)) + ")"
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
        + ", ".join([one] * rows)
        + " ON CONFLICT DO NOTHING"
    )
    return f"{sql} RETURNING {returning}" if returning else sql


def pg_array_type(table: Table, column: str) -> str:
    kind = table.c[column].type
    if isinstance(kind, UtcDateTime):
        return "timestamptz[]"
    if isinstance(kind, BigInteger):
        return "int8[]"
    if isinstance(kind, Integer):
        return "int4[]"
    if isinstance(kind, String):
        return "text[]"
    if isinstance(kind, Date):
        return "date[]"
    if isinstance(kind, Uuid):
        return "uuid[]"
    if isinstance(kind, JSON):
        return "json[]"
    raise TypeError(f"no array type for {table.name}.{column} ({kind})")


@cache
def pg_unnest_sql(
    table: Table, columns: tuple[str, ...], returning: str = "", *, ignore_duplicates: bool = True
) -> str:
    """PostgreSQL: one statement for any number of rows, each column one array parameter."""
    arrays = ", ".join(f"%s::{pg_array_type(table, c)}" for c in columns)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
    if ignore_duplicates:
        sql += " ON CONFLICT DO NOTHING"
    return f"{sql} RETURNING {returning}" if returning else sql


def insert_all(
    db: SqlConnection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """A plain bulk insert: a duplicate key fails the whole statement (and transaction)."""
    if not rows:
        return
    if db.dialect.name == "postgresql":
        copy_rows(db, table, columns, rows)
    else:
        plain = insert_sql(db.dialect.name, table.name, columns)
        db.exec_driver_sql(plain.removesuffix(" ON CONFLICT DO NOTHING"), list(rows))


def copy_rows(
    db: SqlConnection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """PostgreSQL's COPY: the fastest way in, with every constraint and trigger applied. A
    violated constraint raises SQLAlchemy's IntegrityError, as an INSERT would."""
    sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    cursor = db.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except db.dialect.dbapi.IntegrityError as error:  # type: ignore[union-attr]
        raise IntegrityError(sql, None, error) from error


def as_arrays(rows: Sequence[tuple[Any, ...]]) -> tuple[list[Any], ...]:
    """Rows to one list per column (unnest's parameters)."""
    return tuple(list(column) for column in zip(*rows, strict=True))


def insert_new(
    db: SqlConnection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """INSERT ... ON CONFLICT DO NOTHING of many rows: one executemany on SQLite, one
    unnest() statement on PostgreSQL."""
    if not rows:
        return
    if db.dialect.name == "postgresql":
        db.exec_driver_sql(pg_unnest_sql(table, columns), as_arrays(rows))
    else:
        db.exec_driver_sql(insert_sql(db.dialect.name, table.name, columns), list(rows))


def insert_new_returning(
    db: SqlConnection,
    table: Table,
    columns: tuple[str, ...],
    rows: Sequence[tuple[Any, ...]],
    returning: str,
) -> list[tuple[Any, ...]]:
    """The rows actually inserted (not the duplicates)."""
    if not rows:
        return []
    if db.dialect.name == "postgresql":
        sql = pg_unnest_sql(table, columns, returning)
        return [tuple(r) for r in db.exec_driver_sql(sql, as_arrays(rows)).all()]
    inserted: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), MULTI_ROW_LIMIT):
        chunk = rows[start : start + MULTI_ROW_LIMIT]
        sql = insert_sql(db.dialect.name, table.name, columns, len(chunk), returning)
        flat = tuple(value for row in chunk for value in row)
        inserted.extend(tuple(r) for r in db.exec_driver_sql(sql, flat).all())
    return inserted


def day_for(db: SqlConnection) -> Callable[[date], Any]:
    """What a Date column takes: ISO text on SQLite, a date on PostgreSQL."""
    return date.isoformat if db.dialect.name == "sqlite" else _same


def uuid_for(db: SqlConnection) -> Callable[[uuid.UUID], Any]:
    """What a Uuid column takes: 32 hex digits on SQLite (SQLAlchemy's CHAR(32)), a UUID
    on PostgreSQL."""
    return _hex if db.dialect.name == "sqlite" else _same


def _hex(value: uuid.UUID) -> str:
    return value.hex


def _same(value: Any) -> Any:
    return value
