"""Interval blocks partitioned by IST month on PostgreSQL (SQLite: nothing changes).

Monthly partitions cover 24 months back through 3 months ahead of the migration; older
or farther rows (the simulator's September 2021, a meter with a wrong clock) land in the
DEFAULT partition, so no insert ever fails for a missing month. The primary key
(meter_id, block_start) already contains the partition key, so ingestion's
ON CONFLICT DO NOTHING keeps absorbing duplicate blocks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 13:45:00.000000
"""

from __future__ import annotations

from datetime import date, datetime

from alembic import op

from prepaidgrid.adapters.db.partitions import (
    DEFAULT_PARTITION,
    create_month_partition,
    first_of_month,
    months_between,
)
from prepaidgrid.domain.units import IST

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MONTHS_BACK = 24
MONTHS_AHEAD = 3

# The table as 0002 created it; PostgreSQL cannot turn a table into a partitioned one.
COLUMNS = """
    meter_id VARCHAR(40) NOT NULL,
    block_start TIMESTAMP WITH TIME ZONE NOT NULL,
    minutes INTEGER NOT NULL,
    import_wh INTEGER NOT NULL,
    CONSTRAINT ck_interval_blocks_minutes CHECK (minutes IN (15, 30)),
    CONSTRAINT ck_interval_blocks_import_nonnegative CHECK (import_wh >= 0),
    CONSTRAINT pk_interval_blocks PRIMARY KEY (meter_id, block_start)
"""

COPY = (
    "INSERT INTO {into} (meter_id, block_start, minutes, import_wh)"
    " SELECT meter_id, block_start, minutes, import_wh FROM {source}"
)


def _shift_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE interval_blocks RENAME TO interval_blocks_unpartitioned")
    # index names are unique per schema: free pk_interval_blocks for the new table
    op.execute(
        "ALTER TABLE interval_blocks_unpartitioned"
        " RENAME CONSTRAINT pk_interval_blocks TO pk_interval_blocks_unpartitioned"
    )
    op.execute(f"CREATE TABLE interval_blocks ({COLUMNS}) PARTITION BY RANGE (block_start)")
    op.execute(f"CREATE TABLE {DEFAULT_PARTITION} PARTITION OF interval_blocks DEFAULT")
    this_month = first_of_month(datetime.now(IST).date())
    since, through = (
        _shift_months(this_month, -MONTHS_BACK),
        _shift_months(this_month, MONTHS_AHEAD),
    )
    for month in months_between(since, through):
        create_month_partition(op.get_bind(), month)
    op.execute(COPY.format(into="interval_blocks", source="interval_blocks_unpartitioned"))
    op.execute("DROP TABLE interval_blocks_unpartitioned")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE interval_blocks RENAME TO interval_blocks_partitioned")
    op.execute(
        "ALTER TABLE interval_blocks_partitioned"
        " RENAME CONSTRAINT pk_interval_blocks TO pk_interval_blocks_partitioned"
    )
    op.execute(f"CREATE TABLE interval_blocks ({COLUMNS})")
    op.execute(COPY.format(into="interval_blocks", source="interval_blocks_partitioned"))
    op.execute("DROP TABLE interval_blocks_partitioned")  # and every partition with it
