"""Benchmark the nightly billing run against the storage floor of the same database.

Prints one JSON object. On a fresh database (a temporary SQLite file, or a fresh schema when
--db names PostgreSQL) it seeds N prepaid accounts with a day of usage (bench/population.py,
not timed), then times:

- the run: `bill_day` for that day, in this process, as `prepaidgrid bill` runs it;
- the floor: a raw bulk insert of as many rows as the run wrote (its daily_charges rows
  and its postings) into plain tables of the same columns, keys and indexes in the same
  database, with no triggers: executemany on SQLite, COPY on PostgreSQL. The rows are built before
  the clock starts, so the floor is the database's own cost of storing the night.

    python -m bench.billing --meters 100000 [--db URL] [--partition-size N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from bench.population import FIRST_DAY, seed
from prepaidgrid.adapters.books import PackagedPolicyBook, PackagedTariffBook
from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.engine import make_engine
from prepaidgrid.adapters.db.migrate import upgrade
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.domain.units import IST
from prepaidgrid.services.billing_run import DEFAULT_PARTITION_SIZE, bill_day

RUN_AT = datetime(2025, 7, 2, 0, 30, tzinfo=IST)
TARGETS = {"sqlite": 2.0, "postgresql": 2.0}
FLOOR_CHUNK = 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=100_000)
    parser.add_argument("--db", dest="db_url", help="default: a fresh SQLite file")
    parser.add_argument("--partition-size", type=int, default=DEFAULT_PARTITION_SIZE)
    arguments = parser.parse_args()
    print(json.dumps(run(arguments.meters, arguments.db_url, arguments.partition_size), indent=2))


def run(
    meters: int, db_url: str | None = None, partition_size: int = DEFAULT_PARTITION_SIZE
) -> dict[str, Any]:
    with fresh_database(db_url) as engine:
        started = time.perf_counter()
        seed(engine, meters)
        seed_s = time.perf_counter() - started
        rss_before_mb = _peak_rss_mb()
        started = time.perf_counter()
        day = bill_day(
            FIRST_DAY,
            lambda: SqlUnitOfWork(engine),
            SettableClock(RUN_AT),
            PackagedTariffBook(),
            PackagedPolicyBook(),
            partition_size=partition_size,
            new_reader=lambda: SqlUnitOfWork(engine, read_only=True),
        )
        run_s = time.perf_counter() - started
        rss_after_run_mb = _peak_rss_mb()  # before the floor builds its rows in memory
        print(  # a long run's figure survives a failure of the floor
            f"run: {day.billed:,} billed in {run_s:.1f} s, RSS {rss_after_run_mb:.0f} MB",
            file=sys.stderr,
        )
        rows = _rows_written(engine)
        floor_s = time_floor(engine, rows["daily_charges"], rows["postings"])
        dialect = engine.dialect.name
    ratio = run_s / floor_s
    return {
        "benchmark": "billing-run",
        "database": dialect,
        "meters": meters,
        "partition_size": partition_size,
        "seed_seconds": round(seed_s, 2),
        "run_seconds": round(run_s, 2),
        "meters_per_second": round(day.billed / run_s, 1),
        "billed": day.billed,
        "entered_grace": day.entered_grace,
        "skipped": day.skipped,
        "rows_written": rows,
        "floor": "COPY" if dialect == "postgresql" else "executemany",
        "floor_seconds": round(floor_s, 2),
        "ratio_to_floor": round(ratio, 2),
        "target_ratio": TARGETS[dialect],
        "target_met": ratio <= TARGETS[dialect],
        "peak_rss_before_run_mb": round(rss_before_mb, 1),
        "peak_rss_after_run_mb": round(rss_after_run_mb, 1),
        "peak_rss_with_floor_mb": round(_peak_rss_mb(), 1),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }


def _rows_written(engine: Engine) -> dict[str, int]:
    with engine.connect() as db:
        charges = db.execute(text("SELECT count(*) FROM daily_charges")).scalar_one()
        postings = db.execute(
            text(
                "SELECT count(*) FROM postings p JOIN journals j ON j.id = p.journal_id "
                "WHERE j.kind = 'charge_run'"
            )
        ).scalar_one()
    return {"daily_charges": int(charges), "postings": int(postings)}


def time_floor(engine: Engine, charges: int, postings: int) -> float:
    """Seconds to store as many rows, raw, in tables shaped like daily_charges and postings."""
    journal = uuid.uuid4().hex
    with engine.begin() as db:
        db.exec_driver_sql(
            "CREATE TABLE floor_charges (account_id VARCHAR(40), bill_day DATE, used_wh BIGINT, "
            "month_used_wh BIGINT, max_demand_w INTEGER, energy_paise BIGINT, "
            "subsidy_paise BIGINT, rebate_paise BIGINT, tod_paise BIGINT, fixed_paise BIGINT, "
            "duty_paise BIGINT, total_paise BIGINT, instalment_paise BIGINT, "
            "tariff_id VARCHAR(40), posted_at TIMESTAMP, journal_id VARCHAR(36), "
            "PRIMARY KEY (account_id, bill_day))"
        )
        db.exec_driver_sql(
            "CREATE TABLE floor_postings (id INTEGER PRIMARY KEY, journal_id VARCHAR(36), "
            "ledger_account VARCHAR(60), amount_paise BIGINT)"
            if engine.dialect.name == "sqlite"
            else "CREATE TABLE floor_postings (id BIGSERIAL PRIMARY KEY, journal_id VARCHAR(36), "
            "ledger_account VARCHAR(60), amount_paise BIGINT)"
        )
        # The same secondary indexes as the real tables: storing the rows includes them.
        db.exec_driver_sql("CREATE INDEX ix_floor_charges_journal ON floor_charges (journal_id)")
        db.exec_driver_sql("CREATE INDEX ix_floor_postings_journal ON floor_postings (journal_id)")
        db.exec_driver_sql(
            "CREATE INDEX ix_floor_postings_account ON floor_postings (ledger_account)"
        )
    # Rows are built a million at a time outside the clock (a 10M floor would not fit in
    # memory at once); only the inserts and the commit are timed, in one transaction.
    timed = 0.0
    with engine.begin() as db:
        for first in range(0, max(charges, postings), FLOOR_CHUNK):
            charge_rows = [
                _floor_charge(n, journal) for n in range(first, min(charges, first + FLOOR_CHUNK))
            ]
            posting_rows = [
                (journal, f"wallet:B{n:09d}", -4000)
                for n in range(first, min(postings, first + FLOOR_CHUNK))
            ]
            started = time.perf_counter()
            _store_floor_rows(db, charge_rows, posting_rows)
            timed += time.perf_counter() - started
        started = time.perf_counter()
    return timed + time.perf_counter() - started  # the commit


def _floor_charge(n: int, journal: str) -> tuple[object, ...]:
    return (
        f"B{n:09d}",
        "2025-07-01",
        6000,
        6000,
        1500,
        4000,
        1000,
        100,
        0,
        800,
        300,
        4000,
        0,
        "bihar-2025-26",
        "2025-07-01 19:00:00.000000",
        journal,
    )


def _store_floor_rows(
    db: Any, charge_rows: Sequence[tuple[object, ...]], posting_rows: Sequence[tuple[object, ...]]
) -> None:
    if not charge_rows and not posting_rows:
        return
    if db.dialect.name == "postgresql":
        cursor = db.connection.dbapi_connection.cursor()
        with cursor.copy("COPY floor_charges FROM STDIN") as copy:
            for row in charge_rows:
                copy.write_row(row)
        with cursor.copy(
            "COPY floor_postings (journal_id, ledger_account, amount_paise) FROM STDIN"
        ) as copy:
            for row in posting_rows:
                copy.write_row(row)
        return
    marks = ", ".join(["?"] * 16)
    if charge_rows:  # the last chunk may hold only the partitions' utility lines
        db.exec_driver_sql(f"INSERT INTO floor_charges VALUES ({marks})", list(charge_rows))
    if posting_rows:
        db.exec_driver_sql(
            "INSERT INTO floor_postings (journal_id, ledger_account, amount_paise) "
            "VALUES (?, ?, ?)",
            list(posting_rows),
        )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def fresh_database(url: str | None) -> Iterator[Engine]:
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite:///{Path(folder) / 'billing.db'}")
            upgrade(engine)
            try:
                yield engine
            finally:
                engine.dispose()
        return
    if make_url(url).get_backend_name() != "postgresql":
        raise SystemExit("--db must name PostgreSQL; SQLite uses a fresh temporary file")
    schema = f"bench_billing_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url)
    with admin.begin() as db:
        db.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(
        make_url(url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as db:
            db.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


if __name__ == "__main__":
    main()
