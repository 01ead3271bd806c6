"""Property: a month of nightly runs charges each account exactly its monthly bill."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.tables import daily_charges
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.db.verify import verify_ledger
from prepaidgrid.domain.tariffs import Usage, monthly_bill
from prepaidgrid.domain.units import days_in_month
from prepaidgrid.services.billing_run import bill_days
from tests.conftest import fresh_sqlite, ist
from tests.integration.headend_support import POLICIES
from tests.integration.test_billing_run import TARIFFS, open_accounts, put_usage

pytestmark = pytest.mark.integration

COMPONENTS = ("energy", "subsidy", "rebate", "tod", "fixed", "duty", "total")


@settings(max_examples=6, deadline=None)
@given(
    month=st.sampled_from([date(2025, 7, 1), date(2025, 9, 1), date(2026, 2, 1)]),
    daily_wh=st.lists(
        st.lists(st.integers(0, 40_000), min_size=31, max_size=31), min_size=1, max_size=4
    ),
    partition_size=st.integers(1, 5),
)
def test_a_month_of_runs_posts_each_accounts_monthly_bill_component_by_component(
    month: date, daily_wh: list[list[int]], partition_size: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for engine in fresh_sqlite(Path(folder)):
            ids = open_accounts(engine, len(daily_wh))
            days = [month + timedelta(days=n) for n in range(days_in_month(month))]
            usage = {
                (account_id, day): wh[n]
                for account_id, wh in zip(ids, daily_wh, strict=True)
                for n, day in enumerate(days)
            }
            put_usage(engine, usage)
            clock = SettableClock(ist(2026, 3, 5, 0, 30))

            bill_days(
                days[0],
                days[-1],
                lambda: SqlUnitOfWork(engine),  # noqa: B023
                clock,
                TARIFFS,
                POLICIES,
                partition_size=partition_size,
                new_reader=lambda: SqlUnitOfWork(engine, read_only=True),  # noqa: B023
            )

            with engine.connect() as db:
                posted = {
                    row[0]: row[1:]
                    for row in db.execute(
                        select(
                            daily_charges.c.account_id,
                            *(func.sum(daily_charges.c[f"{c}_paise"]) for c in COMPONENTS),
                        ).group_by(daily_charges.c.account_id)
                    )
                }
            for account_id in ids:
                tariff = TARIFFS.in_force("SBPDCL", days[-1]).category("DS-II")
                month_wh = sum(usage[(account_id, day)] for day in days)
                bill = monthly_bill(
                    tariff, Usage(month_wh, 0, len(days), month, sanctioned_load_w=2000)
                )
                expected = tuple(getattr(bill, f"{c}_paise") for c in COMPONENTS)
                assert tuple(int(v) for v in posted[account_id]) == expected
            assert verify_ledger(engine).ok
