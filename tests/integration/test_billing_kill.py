"""SIGKILL the billing run mid-way, run it again: every account-day charged exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from bench.population import FIRST_DAY, seed
from sqlalchemy import Engine, text

from prepaidgrid.adapters.db.verify import verify_ledger
from tests.conftest import database_url

pytestmark = pytest.mark.integration

ACCOUNTS = 60_000
PARTITION = 250
RUN_AT = "2025-07-02T00:30:00+05:30"


def bill(engine: Engine) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prepaidgrid.entrypoints.cli",
            "bill",
            "--day",
            FIRST_DAY.isoformat(),
            "--partition-size",
            str(PARTITION),
            "--at",
            RUN_AT,
            "--json",
            "--db",
            database_url(engine),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as db:
        return int(db.execute(text(sql)).scalar_one())


def test_a_run_killed_mid_way_and_run_again_charges_every_account_day_once(
    engine: Engine,
) -> None:
    seed(engine, ACCOUNTS)
    opening = scalar(engine, "SELECT sum(balance_paise) FROM ledger_accounts WHERE kind = 'wallet'")

    with bill(engine) as killed:  # leaving the block reaps it and closes its pipes
        try:
            deadline = time.monotonic() + 120
            while scalar(engine, "SELECT count(*) FROM daily_charges") < PARTITION:
                if killed.poll() is not None:
                    _, err = killed.communicate()
                    pytest.fail(f"the run ended before it could be killed:\n{err[-3000:]}")
                assert time.monotonic() < deadline, "the run billed nothing within 120 s"
                time.sleep(0.002)  # the run bills a partition in a few ms on a quiet machine
        finally:
            killed.send_signal(signal.SIGKILL)
            killed.communicate(timeout=30)
    billed_before = scalar(engine, "SELECT count(*) FROM daily_charges")
    assert 0 < billed_before < ACCOUNTS, f"killed after {billed_before} of {ACCOUNTS}: too late"
    assert billed_before % PARTITION == 0  # whole partitions, never part of one

    again = bill(engine)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    (summary,) = json.loads(out)

    assert summary["accounts"] == summary["billed"] == ACCOUNTS - billed_before
    assert scalar(engine, "SELECT count(*) FROM daily_charges") == ACCOUNTS
    assert (
        scalar(
            engine,
            "SELECT count(*) FROM (SELECT p.ledger_account FROM postings p "
            "JOIN journals j ON j.id = p.journal_id WHERE j.kind = 'charge_run' "
            "AND p.ledger_account LIKE 'wallet:%' GROUP BY p.ledger_account HAVING count(*) > 1) x",
        )
        == 0
    )
    charged = scalar(engine, "SELECT sum(total_paise) FROM daily_charges")
    after = scalar(engine, "SELECT sum(balance_paise) FROM ledger_accounts WHERE kind = 'wallet'")
    assert after == opening - charged
    report = verify_ledger(engine)
    assert report.ok, [c for c in report.checks if c.violations]
