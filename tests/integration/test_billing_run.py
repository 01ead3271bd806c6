"""The nightly billing run on a real database: exactly once, equal to the tariff engine."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, insert, select, text

from prepaidgrid.adapters.books import PackagedTariffBook
from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.tables import daily_charges, daily_usage
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.db.verify import verify_ledger
from prepaidgrid.domain.accounts import NewConnection
from prepaidgrid.domain.errors import AlreadyExists
from prepaidgrid.domain.tariffs import Usage, monthly_bill
from prepaidgrid.domain.units import days_in_month
from prepaidgrid.services.billing_run import bill_day, bill_days
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.onboarding import (
    InstallSmartMeter,
    add_org_units,
    install_smart_meter,
    open_connection,
)
from tests.conftest import ist, org_chain
from tests.integration.headend_support import POLICIES

pytestmark = pytest.mark.integration

TARIFFS = PackagedTariffBook()
JULY = date(2025, 7, 1)
INSTALLED = ist(2025, 6, 30, 12)


def open_accounts(
    engine: Engine, count: int, *, credit_paise: int = 500_000, category: str = "DS-II"
) -> list[str]:
    clock = SettableClock(INSTALLED)
    with contextlib.suppress(AlreadyExists):
        add_org_units(org_chain("SUB-1"), SqlUnitOfWork(engine))
    ids = []
    for n in range(count):
        account_id = f"{category}-{n:05d}"
        open_connection(
            NewConnection(account_id, "Test", "9876500001", category, 2000, "SUB-1", "SBPDCL"),
            SqlUnitOfWork(engine),
            clock,
        )
        install_smart_meter(
            InstallSmartMeter(account_id, f"M-{account_id}", postpaid_balance_paise=credit_paise),
            SqlUnitOfWork(engine),
            clock,
            POLICIES,
        )
        ids.append(account_id)
    return ids


def put_usage(engine: Engine, usage: dict[tuple[str, date], int]) -> None:
    with engine.begin() as db:
        db.execute(
            insert(daily_usage),
            [
                {
                    "account_id": account_id,
                    "usage_day": day,
                    "meter_id": f"M-{account_id}",
                    "used_wh": used_wh,
                    "method": "fallback",
                    "max_demand_w": 0,
                    "band_wh": {},
                    "flags": [],
                    "note": "test",
                    "computed_at": INSTALLED,
                }
                for (account_id, day), used_wh in usage.items()
            ],
        )


def charges(engine: Engine) -> dict[tuple[str, date], int]:
    with engine.connect() as db:
        rows = db.execute(
            select(
                daily_charges.c.account_id, daily_charges.c.bill_day, daily_charges.c.total_paise
            )
        ).all()
    return {(r.account_id, r.bill_day): r.total_paise for r in rows}


def test_a_month_of_nightly_runs_equals_each_accounts_monthly_bill(engine: Engine) -> None:
    ids = open_accounts(engine, 12)
    rng = random.Random(7)
    days = [JULY + timedelta(days=n) for n in range(days_in_month(JULY))]
    usage = {(a, d): rng.choice([0, 1_500, 4_000, 9_000, 25_000]) for a in ids for d in days}
    put_usage(engine, usage)
    clock = SettableClock(ist(2025, 8, 1, 0, 30))

    runs = bill_days(
        days[0],
        days[-1],
        lambda: SqlUnitOfWork(engine),
        clock,
        TARIFFS,
        POLICIES,
        partition_size=5,
        new_reader=lambda: SqlUnitOfWork(engine, read_only=True),
    )

    assert [run.billed for run in runs] == [12] * len(days)
    assert all(run.partitions == 3 for run in runs)
    billed = charges(engine)
    tariff = TARIFFS.in_force("SBPDCL", JULY).category("DS-II")
    for account_id in ids:
        month_wh = sum(usage[(account_id, d)] for d in days)
        expected = monthly_bill(
            tariff, Usage(month_wh, 0, len(days), JULY, sanctioned_load_w=2000)
        ).total_paise
        assert sum(billed[(account_id, d)] for d in days) == expected
    assert verify_ledger(engine).ok


def test_a_second_run_of_the_same_day_posts_nothing(engine: Engine) -> None:
    ids = open_accounts(engine, 5)
    put_usage(engine, {(a, JULY): 6_000 for a in ids})
    clock = SettableClock(ist(2025, 7, 2, 0, 30))
    new_uow = lambda: SqlUnitOfWork(engine)  # noqa: E731

    first = bill_day(JULY, new_uow, clock, TARIFFS, POLICIES)
    again = bill_day(JULY, new_uow, clock, TARIFFS, POLICIES)

    assert (first.accounts, first.billed) == (5, 5)
    assert (again.accounts, again.billed, again.partitions) == (0, 0, 0)
    assert len(charges(engine)) == 5
    assert scalar(engine, "SELECT count(*) FROM journals WHERE kind = 'charge_run'") == 1
    assert verify_ledger(engine).ok


def test_days_posted_one_at_a_time_are_not_billed_again_by_the_run(engine: Engine) -> None:
    ids = open_accounts(engine, 4)
    put_usage(engine, {(a, JULY): 3_000 for a in ids})
    clock = SettableClock(ist(2025, 7, 2, 0, 30))
    post_daily_charge(
        PostDailyCharge(ids[0], JULY, 3_000), SqlUnitOfWork(engine), clock, TARIFFS, POLICIES
    )

    run = bill_day(JULY, lambda: SqlUnitOfWork(engine), clock, TARIFFS, POLICIES)

    assert (run.accounts, run.billed) == (3, 3)
    assert len(set(charges(engine).values())) == 1  # the same use costs the same either way
    assert verify_ledger(engine).ok


def test_accounts_the_tariff_cannot_price_are_skipped_with_their_reason(engine: Engine) -> None:
    priced = open_accounts(engine, 2)
    unpriced = open_accounts(engine, 2, category="NDS-IV")
    put_usage(engine, {(a, JULY): 2_000 for a in priced + unpriced})

    run = bill_day(
        JULY, lambda: SqlUnitOfWork(engine), SettableClock(ist(2025, 7, 2, 1)), TARIFFS, POLICIES
    )

    assert run.billed == 2
    assert list(run.skipped.values()) == [2]
    assert "NDS-IV" in next(iter(run.examples.values()))
    assert run.without_usage == 0


def test_a_catch_up_that_empties_a_wallet_gives_the_full_grace_from_the_posting(
    engine: Engine,
) -> None:
    """Three missed days billed at once on 10 July: the cut waits for the grace from the
    run, not from the day the money ran out, and the consumer is warned."""
    (account_id,) = open_accounts(engine, 1, credit_paise=2_000)
    put_usage(engine, {(account_id, JULY + timedelta(days=n)): 20_000 for n in range(3)})
    run_at = ist(2025, 7, 10, 0, 30)

    runs = bill_days(
        JULY,
        JULY + timedelta(days=2),
        lambda: SqlUnitOfWork(engine),
        SettableClock(run_at),
        TARIFFS,
        POLICIES,
    )

    assert sum(run.entered_grace for run in runs) == 1
    with SqlUnitOfWork(engine) as uow:
        connection = uow.connections.get(account_id)
    assert connection.supply.state.value == "grace"
    assert connection.supply.cut_at is not None
    assert connection.supply.cut_at > run_at
    assert connection.supply.cut_at - run_at >= timedelta(hours=24)
    assert scalar(engine, "SELECT count(*) FROM outbox WHERE kind = 'sms'") >= 1
    assert verify_ledger(engine).ok


def scalar(engine: Engine, sql: str) -> int:
    with engine.connect() as db:
        return int(db.execute(text(sql)).scalar_one())


def test_the_scheduler_catches_up_every_missed_night_after_half_past_midnight(
    engine: Engine,
) -> None:
    from prepaidgrid.bootstrap import App
    from prepaidgrid.entrypoints.scheduler import NightlyBilling

    ids = open_accounts(engine, 3)
    put_usage(engine, {(a, JULY + timedelta(days=n)): 5_000 for a in ids for n in range(4)})
    clock = SettableClock(ist(2025, 7, 5, 0, 10))
    app = App(
        engine,
        clock,
        TARIFFS,
        POLICIES,
        lambda: SqlUnitOfWork(engine),
        lambda: SqlUnitOfWork(engine, read_only=True),
    )
    bill_day(JULY, app.new_uow, clock, TARIFFS, POLICIES)  # the last night the server was up
    nightly = NightlyBilling(app)

    nightly.tick()  # 00:10: not yet
    clock.set(ist(2025, 7, 5, 0, 40))
    nightly.tick()
    nightly.tick()  # done for the night: nothing more

    assert [run.day for run in nightly.runs] == [JULY + timedelta(days=n) for n in (1, 2, 3)]
    assert len(charges(engine)) == 12
    assert verify_ledger(engine).ok


def test_an_account_that_became_prepaid_mid_month_is_billed_as_the_single_posting_bills_it(
    engine: Engine,
) -> None:
    """Installed at 02:00 IST on 10 July (still the 9th in UTC): its first prepaid day is
    the 10th, its period the 22 days left in July, in the run as in a single posting."""
    with contextlib.suppress(AlreadyExists):
        add_org_units(org_chain("SUB-1"), SqlUnitOfWork(engine))
    installed = ist(2025, 7, 10, 2)
    for account_id in ("RUN", "ONE"):
        open_connection(
            NewConnection(account_id, "Test", "9876500001", "DS-II", 3000, "SUB-1", "SBPDCL"),
            SqlUnitOfWork(engine),
            SettableClock(installed),
        )
        install_smart_meter(
            InstallSmartMeter(account_id, f"M-{account_id}", postpaid_balance_paise=90_000),
            SqlUnitOfWork(engine),
            SettableClock(installed),
            POLICIES,
        )
    tenth = date(2025, 7, 10)
    put_usage(
        engine, {(a, d): 7_000 for a in ("RUN", "ONE") for d in (tenth - timedelta(1), tenth)}
    )
    clock = SettableClock(ist(2025, 7, 11, 0, 30))
    post_daily_charge(
        PostDailyCharge("ONE", tenth, 7_000), SqlUnitOfWork(engine), clock, TARIFFS, POLICIES
    )

    ninth = bill_day(tenth - timedelta(1), lambda: SqlUnitOfWork(engine), clock, TARIFFS, POLICIES)
    run = bill_day(tenth, lambda: SqlUnitOfWork(engine), clock, TARIFFS, POLICIES)

    assert ninth.billed == 0
    assert ninth.skipped == {"NotYetPrepaid": 2}
    assert run.billed == 1
    billed = charges(engine)
    assert billed[("RUN", tenth)] == billed[("ONE", tenth)] > 0


def test_estimated_days_are_trued_up_once_the_reads_arrive_and_the_month_adds_up(
    engine: Engine,
) -> None:
    """Five days billed on the 5 kWh fallback; the meter's midnight reads then show 40 kWh.
    The true-up posts the difference once, and the month costs what 40 kWh costs."""
    from prepaidgrid.adapters.db.tables import register_reads
    from prepaidgrid.domain.tariffs import bill_to_date
    from prepaidgrid.services.true_up import true_up_month

    (account_id,) = open_accounts(engine, 1)
    days = [JULY + timedelta(days=n) for n in range(5)]
    put_usage(engine, {(account_id, d): 5_000 for d in days})
    clock = SettableClock(ist(2025, 8, 1, 0, 30))
    new_uow = lambda: SqlUnitOfWork(engine)  # noqa: E731
    bill_days(days[0], days[-1], new_uow, clock, TARIFFS, POLICIES)
    with engine.begin() as db:
        db.execute(
            insert(register_reads),
            [
                {
                    "meter_id": f"M-{account_id}",
                    "read_at": ist(2025, 7, day, 0),
                    "kind": "daily",
                    "import_wh": wh,
                    "meter_time": ist(2025, 7, day, 0),
                    "received_at": ist(2025, 7, 31, 12),
                    "msg_id": f"late-{day}",
                }
                for day, wh in ((1, 100_000), (6, 140_000))
            ],
        )

    first = true_up_month(JULY, new_uow, clock, TARIFFS, POLICIES)
    again = true_up_month(JULY, new_uow, clock, TARIFFS, POLICIES)

    assert (first.accounts, first.trued_up, first.days_settled) == (1, 1, 5)
    assert (again.accounts, again.trued_up) == (0, 0)
    tariff = TARIFFS.in_force("SBPDCL", JULY).category("DS-II")
    month = bill_to_date(tariff, Usage(40_000, 5, 31, JULY, sanctioned_load_w=2000))
    daily = sum(charges(engine).values())
    assert daily + first.debited_paise - first.credited_paise == month.total_paise
    assert first.debited_paise > 0  # the estimates were too low
    with engine.connect() as db:
        methods = set(
            db.execute(
                select(daily_usage.c.method).where(daily_usage.c.account_id == account_id)
            ).scalars()
        )
    assert methods == {"apportioned"}
    assert verify_ledger(engine).ok


def test_the_nightly_run_trues_up_a_month_after_billing_its_last_day(engine: Engine) -> None:
    from prepaidgrid.services.billing_run import run_nightly

    ids = open_accounts(engine, 2)
    days = [date(2025, 7, 30), date(2025, 7, 31), date(2025, 8, 1)]
    put_usage(engine, {(a, d): 4_000 for a in ids for d in [date(2025, 7, 29), *days]})
    new_uow = lambda: SqlUnitOfWork(engine)  # noqa: E731
    clock = SettableClock(ist(2025, 8, 2, 0, 40))
    bill_day(date(2025, 7, 29), new_uow, clock, TARIFFS, POLICIES)
    months: list[date] = []

    runs = run_nightly(
        new_uow, clock, TARIFFS, POLICIES, lambda day: None, on_month_end=months.append
    )

    assert [run.day for run in runs] == days
    assert months == [JULY]


class InterferingReader:
    """The run's read-ahead transaction; after its first read, and before the run writes
    that partition, `interfere()` runs (another process's transaction, in effect)."""

    def __init__(self, engine: Engine, interfere: Callable[[], object]) -> None:
        self._engine, self._interfere, self.fired = engine, interfere, False

    @contextlib.contextmanager
    def _read(self) -> Iterator[SqlUnitOfWork]:
        with SqlUnitOfWork(self._engine, read_only=True) as uow:
            yield uow
        if not self.fired:
            self.fired = True
            self._interfere()

    def __call__(self) -> contextlib.AbstractContextManager[SqlUnitOfWork]:
        return self._read()


def test_a_partition_billed_meanwhile_by_another_run_is_read_again_and_charged_once(
    engine: Engine,
) -> None:
    ids = open_accounts(engine, 6)
    put_usage(engine, {(a, JULY): 6_000 for a in ids})
    clock = SettableClock(ist(2025, 7, 2, 0, 30))
    new_uow = lambda: SqlUnitOfWork(engine)  # noqa: E731
    competitor = InterferingReader(
        engine,
        lambda: post_daily_charge(
            PostDailyCharge(ids[1], JULY, 6_000), SqlUnitOfWork(engine), clock, TARIFFS, POLICIES
        ),
    )

    run = bill_day(JULY, new_uow, clock, TARIFFS, POLICIES, partition_size=4, new_reader=competitor)

    assert competitor.fired
    assert (run.accounts, run.billed) == (6, 5)  # ids[1] went the other way, once
    assert sorted(account for account, _ in charges(engine)) == ids
    assert verify_ledger(engine).ok


def test_supply_is_decided_on_the_balance_after_the_postings_not_the_one_read_ahead(
    engine: Engine,
) -> None:
    """A debit lands between the run's read and its write: the run's charge takes the
    wallet to zero, so the consumer enters grace and is warned, as if read under a lock."""
    (account_id,) = open_accounts(engine, 1, credit_paise=1_500)
    put_usage(engine, {(account_id, JULY): 2_000, (account_id, JULY + timedelta(days=1)): 0})
    clock = SettableClock(ist(2025, 7, 2, 0, 30))
    tomorrow_first = InterferingReader(  # the next day's fixed charge alone, posted on its own
        engine,
        lambda: post_daily_charge(
            PostDailyCharge(account_id, JULY + timedelta(days=1), 0),
            SqlUnitOfWork(engine),
            clock,
            TARIFFS,
            POLICIES,
        ),
    )
    with SqlUnitOfWork(engine) as uow:
        before = uow.connections.get(account_id).wallet_paise

    run = bill_day(
        JULY, lambda: SqlUnitOfWork(engine), clock, TARIFFS, POLICIES, new_reader=tomorrow_first
    )

    with SqlUnitOfWork(engine) as uow:
        connection = uow.connections.get(account_id)
    july_1, _july_2 = sorted(charges(engine).items())
    assert before > july_1[1]  # read ahead, the run's charge alone left money over
    assert connection.wallet_paise <= 0  # but with the other debit, nothing is left
    assert run.entered_grace == 1
    assert connection.supply.state.value == "grace"
    assert verify_ledger(engine).ok
