"""Benchmark the prepaid core through its use cases: recharges, daily charges, ledger verify.

Prints one JSON object. This is the per-account (one transaction each) path; the vectorised
billing run of issue 4 is benchmarked separately.

    python bench/ledger.py [--accounts N] [--db URL]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Engine

from prepaidgrid.adapters.books import PackagedPolicyBook, PackagedTariffBook
from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.engine import make_engine
from prepaidgrid.adapters.db.migrate import upgrade
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.db.verify import verify_ledger
from prepaidgrid.domain.accounts import NewConnection, OrgLevel, OrgUnit
from prepaidgrid.domain.errors import AlreadyExists
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.units import IST
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.onboarding import (
    InstallSmartMeter,
    add_org_units,
    install_smart_meter,
    open_connection,
)
from prepaidgrid.services.recharges import ApplyRecharge, apply_recharge


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--db", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
        print(json.dumps(run(url, args.accounts), indent=2))


def run(url: str, accounts: int, engine: Engine | None = None) -> dict[str, object]:
    engine = engine or make_engine(url)
    upgrade(engine)
    policies, tariffs = PackagedPolicyBook(), PackagedTariffBook()
    clock = SettableClock(datetime(2025, 7, 1, 9, tzinfo=IST))
    tag = f"{time.time_ns() % 10**8}"
    with contextlib.suppress(AlreadyExists):  # a database benchmarked before
        add_org_units([OrgUnit("SBPDCL", OrgLevel.DISCOM, "South Bihar")], SqlUnitOfWork(engine))
    add_org_units(
        [
            OrgUnit(f"C{tag}", OrgLevel.CIRCLE, "bench", parent_code="SBPDCL"),
            OrgUnit(f"V{tag}", OrgLevel.DIVISION, "bench", parent_code=f"C{tag}"),
            OrgUnit(f"B{tag}", OrgLevel.SUBDIVISION, "bench", parent_code=f"V{tag}"),
        ],
        SqlUnitOfWork(engine),
    )
    ids = [f"B{tag}-{n}" for n in range(accounts)]

    started = time.perf_counter()
    for n, account_id in enumerate(ids):
        open_connection(
            NewConnection(account_id, "Bench", "9876500000", "DS-II", 2000, f"B{tag}", "SBPDCL"),
            SqlUnitOfWork(engine),
            clock,
        )
        install_smart_meter(
            InstallSmartMeter(account_id, f"M{tag}-{n}"), SqlUnitOfWork(engine), clock, policies
        )
    onboard_s = time.perf_counter() - started

    started = time.perf_counter()
    for account_id in ids:
        apply_recharge(
            ApplyRecharge(account_id, 50_000, PaymentRef(PaymentChannel.APP, account_id)),
            SqlUnitOfWork(engine),
            clock,
            policies,
        )
    recharge_s = time.perf_counter() - started

    day = date(2025, 7, 1)  # before the free-units scheme: every day is charged
    clock.set(datetime(2025, 7, 2, 0, 30, tzinfo=IST))
    started = time.perf_counter()
    for account_id in ids:
        post_daily_charge(
            PostDailyCharge(account_id, day, 6_000),
            SqlUnitOfWork(engine),
            clock,
            tariffs,
            policies,
        )
    charge_s = time.perf_counter() - started

    started = time.perf_counter()
    report = verify_ledger(engine)
    verify_s = time.perf_counter() - started
    return {
        "benchmark": "ledger-use-cases",
        "database": engine.dialect.name,
        "accounts": accounts,
        "onboard_per_s": round(accounts / onboard_s, 1),
        "recharges_per_s": round(accounts / recharge_s, 1),
        "charges_per_s": round(accounts / charge_s, 1),
        "verify_s": round(verify_s, 3),
        "journals": report.journals,
        "postings": report.postings,
        "ledger_ok": report.ok,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }


if __name__ == "__main__":
    main()
