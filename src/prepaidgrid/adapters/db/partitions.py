"""Monthly range partitions of `interval_blocks` on PostgreSQL; SQLite keeps one table.

A partition holds one IST calendar month (the consumers' charts are drawn in IST), so a
month's chart reads one partition and retention drops whole months. Rows of a month that
has no partition yet land in `interval_blocks_default`; creating that month's partition
later moves them out, because PostgreSQL refuses to create a partition whose rows the
default partition already holds.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import Connection, Engine, text

from prepaidgrid.domain.units import IST

PARENT = "interval_blocks"
DEFAULT_PARTITION = "interval_blocks_default"
_MONTH_NAME_PATTERN = r"interval_blocks_\d{4}_\d{2}"


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_between(since: date, through: date) -> list[date]:
    """The first days of every month from `since`'s month to `through`'s, both included."""
    months, month = [], first_of_month(since)
    while month <= through:
        months.append(month)
        month = next_month(month)
    return months


def partition_name(month: date) -> str:
    return f"{PARENT}_{month:%Y_%m}"


def month_of_partition(name: str) -> date:
    year, month = name.removeprefix(f"{PARENT}_").split("_")
    return date(int(year), int(month), 1)


def is_partition_name(name: str) -> bool:
    return name == DEFAULT_PARTITION or re.fullmatch(_MONTH_NAME_PATTERN, name) is not None


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's `include_name` filter: partitions are made at run time, not by the metadata,
    so autogenerate and schema comparisons must not propose dropping them."""
    return not (type_ == "table" and name is not None and is_partition_name(name))


def _ist_midnight(day: date) -> str:
    # an explicit offset, so that the bound does not depend on the session's TimeZone
    return datetime(day.year, day.month, day.day, tzinfo=IST).isoformat(sep=" ")


def _exists_in_current_schema(db: Connection, name: str) -> bool:
    return bool(
        db.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relname = :name)"
            ),
            {"name": name},
        ).scalar_one()
    )


def monthly_partitions(db: Connection) -> list[str]:
    """Names of the monthly partitions of `interval_blocks` in the current schema, oldest first."""
    rows = db.execute(
        text(
            "SELECT child.relname FROM pg_inherits i"
            " JOIN pg_class child ON child.oid = i.inhrelid"
            " JOIN pg_class parent ON parent.oid = i.inhparent"
            " JOIN pg_namespace n ON n.oid = parent.relnamespace"
            " WHERE n.nspname = current_schema() AND parent.relname = :parent"
            " AND child.relname ~ :pattern ORDER BY child.relname"
        ),
        {"parent": PARENT, "pattern": f"^{_MONTH_NAME_PATTERN}$"},
    ).scalars()
    return list(rows)


def create_month_partition(db: Connection, month: date) -> bool:
    """Create the partition of `month` (a first of month), moving its rows out of the default
    partition; False if it already exists. Runs inside the caller's transaction.

    The partition is built as a plain table and attached, rather than created with
    `PARTITION OF`: attaching takes only SHARE UPDATE EXCLUSIVE on `interval_blocks`, so
    ingestion and chart reads carry on. That lock is also self-conflicting, so two of these
    running at once queue up instead of racing on the name. The default partition is locked
    before its rows are moved, so that no row of the month can slip into it before the attach.
    """
    name, low, high = partition_name(month), _ist_midnight(month), _ist_midnight(next_month(month))
    db.execute(text(f"LOCK TABLE {PARENT} IN SHARE UPDATE EXCLUSIVE MODE"))
    if _exists_in_current_schema(db, name):
        return False
    db.execute(
        text(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    )
    if _exists_in_current_schema(db, DEFAULT_PARTITION):
        db.execute(text(f"LOCK TABLE {DEFAULT_PARTITION} IN ACCESS EXCLUSIVE MODE"))
        db.execute(
            text(
                f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION}"
                "  WHERE block_start >= CAST(:low AS timestamptz)"
                "  AND block_start < CAST(:high AS timestamptz) RETURNING *)"
                f" INSERT INTO {name} SELECT * FROM moved"
            ),
            {"low": low, "high": high},
        )
    # the attach creates the partition's primary key index from the parent's
    db.execute(
        text(
            f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ('{low}') TO ('{high}')"
        )
    )
    return True


def ensure_interval_partitions(
    engine: Engine, through: date, since: date | None = None
) -> list[str]:
    """Create every missing monthly partition up to `through`'s month; returns those created.

    Without `since` it starts after the newest monthly partition (or at `through`'s month if
    there is none), so months are never skipped however long it was not run. Idempotent, and
    safe to run concurrently with itself and with ingestion. Each month commits on its own, so
    a large move out of the default partition never holds locks for the others. On SQLite,
    which does not partition, it does nothing.
    """
    if engine.dialect.name != "postgresql":
        return []
    if since is None:
        with engine.connect() as db:
            existing = monthly_partitions(db)
        since = next_month(month_of_partition(existing[-1])) if existing else through
    created = []
    for month in months_between(since, through):
        with engine.begin() as db:
            if create_month_partition(db, month):
                created.append(partition_name(month))
    return created


def months_ahead(today: date, months: int) -> date:
    """The first day of the month `months` after `today`'s (0: this month)."""
    month = first_of_month(today)
    for _ in range(months):
        month = next_month(month)
    return month
