"""A synthetic prepaid population, written in bulk: the billing benchmark's and kill test's city.

`seed(engine, meters, days)` writes, straight to the driver and in chunks: one org chain,
N DS-II accounts (sanctioned 1-5 kW) with their meters, wallet and arrears ledger accounts,
opening credit (one balanced opening journal per chunk, so `ledger verify` holds), and a
daily usage row per account for each of `days` (a household-like spread, a few zero days).
A few percent start with little credit, so the run sends some accounts into grace.

It bypasses the onboarding services on purpose: a million accounts through them would take
hours, and the benchmark measures billing, not onboarding.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import Engine, insert

from prepaidgrid.adapters.db.bulk import day_for, instant_for, uuid_for
from prepaidgrid.adapters.db.tables import journals
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.domain.accounts import OrgLevel, OrgUnit
from prepaidgrid.domain.ledger import POSTPAID_MIGRATION, JournalKind
from prepaidgrid.services.onboarding import add_org_units

CHUNK = 50_000
SUBDIVISION = "BENCH-S"
DISCOM = "SBPDCL"
INSTALLED_AT = datetime(2025, 6, 30, 6, 30, tzinfo=UTC)  # 12:00 IST: prepaid from 30 June
FIRST_DAY = date(2025, 7, 1)


def account_id(n: int) -> str:
    return f"B{n:09d}"


def seed(
    engine: Engine,
    meters: int,
    days: Sequence[date] = (FIRST_DAY,),
    *,
    seed: int = 1,
    on_chunk: Callable[[int], None] | None = None,
) -> None:
    add_org_units(
        [
            OrgUnit(DISCOM, OrgLevel.DISCOM, "bench"),
            OrgUnit("BENCH-C", OrgLevel.CIRCLE, "bench", parent_code=DISCOM),
            OrgUnit("BENCH-V", OrgLevel.DIVISION, "bench", parent_code="BENCH-C"),
            OrgUnit(SUBDIVISION, OrgLevel.SUBDIVISION, "bench", parent_code="BENCH-V"),
        ],
        SqlUnitOfWork(engine),
    )
    rng = np.random.default_rng(seed)
    for start in range(0, meters, CHUNK):
        count = min(CHUNK, meters - start)
        _seed_chunk(engine, start, count, days, rng)
        if on_chunk is not None:
            on_chunk(count)
    # A live database has planner statistics (autovacuum keeps them); a freshly seeded one
    # has none, and PostgreSQL then plans the partition read as if its tables were empty.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        db.exec_driver_sql("ANALYZE")


def _seed_chunk(
    engine: Engine, start: int, count: int, days: Sequence[date], rng: np.random.Generator
) -> None:
    ids = [account_id(n) for n in range(start, start + count)]
    loads_w = (rng.integers(1, 6, count) * 1000).tolist()
    # Most households hold a few hundred rupees; about 3% are down to their last rupees.
    credit = np.where(
        rng.random(count) < 0.03,
        rng.integers(100, 3_000, count),
        rng.integers(20_000, 300_000, count),
    ).tolist()
    with engine.begin() as db:
        dialect = db.dialect.name
        mark = "?" if dialect == "sqlite" else "%s"

        def rows(table: str, columns: Sequence[str], values: Sequence[tuple[object, ...]]) -> None:
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join([mark] * len(columns))})"
            )
            db.exec_driver_sql(sql, list(values))

        at = instant_for(db)(INSTALLED_AT)
        rows(
            "accounts",
            (
                "account_id",
                "consumer_name",
                "mobile",
                "language",
                "category",
                "discom",
                "sanctioned_load_w",
                "subdivision_code",
                "supply_profile",
                "opened_at",
                "migrated_at",
                "supply_state",
            ),
            [
                (
                    a,
                    "Bench Household",
                    "9876500001",
                    "hi",
                    "DS-II",
                    DISCOM,
                    load,
                    SUBDIVISION,
                    "bihar",
                    at,
                    at,
                    "connected",
                )
                for a, load in zip(ids, loads_w, strict=True)
            ],
        )
        rows(
            "meters",
            ("meter_id", "account_id", "installed_at"),
            [(f"M{a}", a, at) for a in ids],
        )
        rows(
            "ledger_accounts",
            ("code", "kind", "account_id", "balance_paise"),
            [(f"wallet:{a}", "wallet", a, 0) for a in ids]
            + [(f"arrears:{a}", "arrears", a, 0) for a in ids],
        )
        journal_id = uuid.uuid4()
        rows(
            "postings",
            ("journal_id", "ledger_account", "amount_paise"),
            [(uuid_for(db)(journal_id), f"wallet:{a}", c) for a, c in zip(ids, credit, strict=True)]
            + [(uuid_for(db)(journal_id), POSTPAID_MIGRATION, -sum(credit))],
        )
        db.execute(
            insert(journals).values(
                id=journal_id,
                idempotency_key=f"opening-bench:{ids[0]}",
                kind=JournalKind.OPENING.value,
                account_id=None,
                posted_at=INSTALLED_AT,
                memo=f"bench opening credit of {count} accounts",
            )
        )
        for day in days:
            used_wh = np.maximum(0, rng.normal(6_000, 3_500, count)).astype(np.int64)
            used_wh[rng.random(count) < 0.02] = 0  # a locked house, a day away
            demand_w = np.minimum(np.asarray(loads_w) * 1.2, used_wh / 4).astype(np.int64)
            stamp = instant_for(db)(
                datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
            )
            rows(
                "daily_usage",
                (
                    "account_id",
                    "usage_day",
                    "meter_id",
                    "used_wh",
                    "method",
                    "max_demand_w",
                    "band_wh",
                    "flags",
                    "note",
                    "computed_at",
                ),
                [
                    (a, day_for(db)(day), f"M{a}", wh, "fallback", md, "{}", "[]", "bench", stamp)
                    for a, wh, md in zip(ids, used_wh.tolist(), demand_w.tolist(), strict=True)
                ],
            )
