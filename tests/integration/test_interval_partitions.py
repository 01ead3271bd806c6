"""Interval blocks: monthly partitions on PostgreSQL, one plain table on SQLite."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from typer.testing import CliRunner

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
from prepaidgrid.adapters.db.partitions import (
    ensure_interval_partitions,
    first_of_month,
    include_name,
    month_of_partition,
    monthly_partitions,
    months_ahead,
    next_month,
)
from prepaidgrid.adapters.db.tables import metadata
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.domain.meter_protocol import Block, Reading, decode_uplink, encode_uplink
from prepaidgrid.domain.units import IST
from prepaidgrid.entrypoints.cli import app
from prepaidgrid.services.headend import Received, ingest_uplinks
from tests.conftest import database_url, fresh_postgres, fresh_sqlite, ist
from tests.integration.headend_support import POLICIES, START, count, install_meters, reading

pytestmark = pytest.mark.integration

SEPTEMBER_2021 = ist(2021, 9, 1, 10, 0)  # the simulator's month: outside the migration's window


@pytest.fixture
def postgres() -> Iterator[Engine]:
    yield from fresh_postgres()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    yield from fresh_sqlite(tmp_path)


def block_at(meter_id: str, block_start: datetime, msg_id: str | None = None) -> Reading:
    """A reading whose one 15-minute block starts at `block_start`."""
    read_at = block_start + timedelta(minutes=15)
    return dataclasses.replace(
        reading(meter_id, 0),
        msg_id=msg_id or f"{meter_id}-{block_start:%Y%m%d%H%M}",
        meter_time=read_at,
        read_at=read_at,
        blocks=(Block(block_start, 15, 100),),
    )


def ingest(engine: Engine, *readings: Reading) -> None:
    batch = [Received(*_encoded(r)) for r in readings]
    ingest_uplinks(batch, SqlUnitOfWork(engine), SettableClock(START), POLICIES)


def _encoded(message: Reading) -> tuple[str, object]:
    topic, payload = encode_uplink(message)
    return topic, decode_uplink(topic, payload)


def partition_of_blocks(engine: Engine) -> dict[datetime, str]:
    with engine.connect() as db:
        rows = db.execute(text("SELECT block_start, tableoid::regclass::text FROM interval_blocks"))
        return dict(rows.all())


def all_blocks(engine: Engine) -> set[tuple[str, datetime, int, int]]:
    with engine.connect() as db:
        rows = db.execute(
            text("SELECT meter_id, block_start, minutes, import_wh FROM interval_blocks")
        )
        return {(r.meter_id, r.block_start, r.minutes, r.import_wh) for r in rows}


def relkind(engine: Engine, table: str) -> str:
    with engine.connect() as db:
        return str(
            db.execute(
                text(
                    "SELECT c.relkind FROM pg_class c"
                    " JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = current_schema() AND c.relname = :table"
                ),
                {"table": table},
            ).scalar_one()
        )


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_interval_blocks_are_partitioned_by_month_around_now_with_a_default(
    postgres: Engine,
) -> None:
    this_month = first_of_month(datetime.now(IST).date())
    three_ahead = next_month(next_month(next_month(this_month)))

    with postgres.connect() as db:
        strategy = db.execute(
            text(
                "SELECT p.partstrat FROM pg_partitioned_table p"
                " JOIN pg_class c ON c.oid = p.partrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relname = 'interval_blocks'"
            )
        ).scalar_one()
        months = [month_of_partition(name) for name in monthly_partitions(db)]

    assert strategy == "r"
    assert relkind(postgres, "interval_blocks_default") == "r"
    assert len(months) == 24 + 1 + 3
    assert (months[0], months[-1]) == (date(this_month.year - 2, this_month.month, 1), three_ahead)


def test_a_block_is_stored_in_its_ist_months_partition(postgres: Engine) -> None:
    meter = install_meters(postgres, 1)[0]
    ensure_interval_partitions(postgres, through=date(2025, 7, 1), since=date(2025, 6, 1))
    last_of_june, first_of_july = ist(2025, 6, 30, 23, 45), ist(2025, 7, 1, 0, 0)

    ingest(postgres, block_at(meter, last_of_june), block_at(meter, first_of_july))

    assert partition_of_blocks(postgres) == {
        last_of_june: "interval_blocks_2025_06",
        first_of_july: "interval_blocks_2025_07",  # 18:30 UTC on 30 June: IST months
    }


def test_a_block_of_a_month_without_partition_lands_in_the_default(postgres: Engine) -> None:
    meter = install_meters(postgres, 1)[0]

    ingest(postgres, block_at(meter, SEPTEMBER_2021))

    assert partition_of_blocks(postgres) == {SEPTEMBER_2021: "interval_blocks_default"}


def test_a_block_resent_in_another_message_is_stored_once(engine: Engine) -> None:
    meter = install_meters(engine, 1)[0]
    blocks = [block_at(meter, START), block_at(meter, SEPTEMBER_2021)]
    resent = [dataclasses.replace(r, msg_id=f"{r.msg_id}-again") for r in blocks]
    later_read = dataclasses.replace(
        blocks[0], msg_id="later", read_at=START + timedelta(hours=1)
    )  # a new register read repeating an old block

    ingest(engine, *blocks)
    ingest(engine, *blocks, *resent, later_read)

    assert count(engine, "interval_blocks") == 2
    assert count(engine, "register_reads") == 3


def test_ensuring_a_month_moves_its_rows_out_of_the_default_partition(postgres: Engine) -> None:
    meter = install_meters(postgres, 1)[0]
    ingest(postgres, block_at(meter, SEPTEMBER_2021), block_at(meter, ist(2021, 10, 5)))
    before = all_blocks(postgres)

    created = ensure_interval_partitions(
        postgres, through=date(2021, 9, 30), since=date(2021, 9, 1)
    )

    assert created == ["interval_blocks_2021_09"]
    assert partition_of_blocks(postgres) == {
        SEPTEMBER_2021: "interval_blocks_2021_09",
        ist(2021, 10, 5): "interval_blocks_default",
    }
    assert all_blocks(postgres) == before


def test_ensuring_partitions_is_idempotent(postgres: Engine) -> None:
    meter = install_meters(postgres, 1)[0]
    ingest(postgres, block_at(meter, SEPTEMBER_2021))
    first = ensure_interval_partitions(postgres, through=date(2021, 10, 1), since=date(2021, 9, 1))

    again = ensure_interval_partitions(postgres, through=date(2021, 10, 1), since=date(2021, 9, 1))

    assert (first, again) == (["interval_blocks_2021_09", "interval_blocks_2021_10"], [])
    assert partition_of_blocks(postgres) == {SEPTEMBER_2021: "interval_blocks_2021_09"}


def test_ensuring_partitions_continues_after_the_newest_month(postgres: Engine) -> None:
    with postgres.connect() as db:
        newest = month_of_partition(monthly_partitions(db)[-1])
    two_after = next_month(next_month(newest))

    created = ensure_interval_partitions(postgres, through=two_after + timedelta(days=9))

    assert created == [f"interval_blocks_{m:%Y_%m}" for m in (next_month(newest), two_after)]
    assert ensure_interval_partitions(postgres, through=two_after) == []


def test_concurrent_ensures_create_a_month_once(postgres: Engine) -> None:
    def ensure(_: int) -> list[str]:
        return ensure_interval_partitions(
            postgres, through=date(2021, 9, 1), since=date(2021, 9, 1)
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(ensure, range(4)))

    assert sorted(results) == [[], [], [], ["interval_blocks_2021_09"]]


def test_on_sqlite_there_are_no_partitions_to_ensure(sqlite_engine: Engine) -> None:
    meter = install_meters(sqlite_engine, 1)[0]
    ingest(sqlite_engine, block_at(meter, SEPTEMBER_2021))

    created = ensure_interval_partitions(sqlite_engine, through=date(2021, 9, 30))

    assert created == []
    assert not [t for t in inspect(sqlite_engine).get_table_names() if "interval_blocks_" in t]
    assert count(sqlite_engine, "interval_blocks") == 1


def test_the_partitioning_migration_downgrades_and_upgrades_with_its_rows(engine: Engine) -> None:
    meter = install_meters(engine, 1)[0]
    ingest(engine, block_at(meter, START), block_at(meter, SEPTEMBER_2021))
    before = all_blocks(engine)
    is_postgres = engine.dialect.name == "postgresql"

    downgrade(engine, "0002")
    unpartitioned = relkind(engine, "interval_blocks") if is_postgres else "r"
    rows_in_0002 = all_blocks(engine)
    upgrade(engine)

    assert (unpartitioned, rows_in_0002) == ("r", before)
    assert all_blocks(engine) == before
    assert current_revision(engine) == head_revision()
    if is_postgres:
        assert relkind(engine, "interval_blocks") == "p"
    ingest(engine, block_at(meter, START, msg_id="after-the-round-trip"))
    assert count(engine, "interval_blocks") == 2


def test_schema_comparisons_that_skip_partitions_find_the_tables_the_code_uses(
    engine: Engine,
) -> None:
    ensure_interval_partitions(engine, through=date(2021, 9, 1), since=date(2021, 9, 1))

    with engine.connect() as db:
        context = MigrationContext.configure(db, opts={"include_name": include_name})
        diff = compare_metadata(context, metadata)

    assert diff == []


def test_months_ahead_counts_whole_months_across_the_year_end() -> None:
    assert months_ahead(date(2026, 11, 29), 0) == date(2026, 11, 1)
    assert months_ahead(date(2026, 11, 29), 2) == date(2027, 1, 1)
    assert months_ahead(date(2026, 12, 31), 13) == date(2028, 1, 1)


def test_db_partitions_prepares_the_coming_months_once(postgres: Engine) -> None:
    url = database_url(postgres)
    newest = month_of_partition(monthly_partitions_of(postgres)[-1])
    today = datetime.now(IST).date()
    ahead = 1 + (newest.year - today.year) * 12 + newest.month - today.month  # one past it

    first = CliRunner().invoke(app, ["db", "partitions", "--ahead", str(ahead), "--db", url])
    again = CliRunner().invoke(app, ["db", "partitions", "--ahead", str(ahead), "--db", url])

    assert first.exit_code == 0, first.output
    assert f"created: interval_blocks_{next_month(newest):%Y_%m}" in first.output
    assert "created: none" in again.output
    assert month_of_partition(monthly_partitions_of(postgres)[-1]) == next_month(newest)


def monthly_partitions_of(engine: Engine) -> list[str]:
    with engine.connect() as db:
        return monthly_partitions(db)
