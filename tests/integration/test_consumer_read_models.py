"""The consumer portal's read side on a real database: what a consumer sees of their account,
read back from what the real services wrote, on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from prepaidgrid.adapters.books import PackagedPolicyBook, PackagedTariffBook
from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.consumer_read_models import (
    Block,
    SqlConsumerPortal,
    StatementDay,
)
from prepaidgrid.adapters.db.tables import daily_charges, postings
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.passwords import Argon2Hasher
from prepaidgrid.domain.accounts import NewConnection
from prepaidgrid.domain.arrears import RecoveryKind
from prepaidgrid.domain.counter import CashierSession, Receipt, sign_receipt
from prepaidgrid.domain.errors import AlreadyExists
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef, arrears, wallet
from prepaidgrid.domain.meter_protocol import (
    Block as MeterBlock,
)
from prepaidgrid.domain.meter_protocol import (
    Reading,
    ReadingKind,
    decode_uplink,
    encode_uplink,
)
from prepaidgrid.domain.meterdata import UsageMethod
from prepaidgrid.domain.supply import SupplyState
from prepaidgrid.domain.tariffs import ChargeLine
from prepaidgrid.services.billing_run import bill_days
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.counter import (
    AddCashier,
    PostReceipts,
    RegisterCounter,
    SignedReceipt,
    add_cashier,
    post_receipts,
    register_counter,
)
from prepaidgrid.services.headend import Received, ingest_uplinks
from prepaidgrid.services.meter_usage import compute_daily_usage
from prepaidgrid.services.onboarding import (
    InstallSmartMeter,
    ReplaceMeter,
    add_org_units,
    install_smart_meter,
    open_connection,
    replace_meter,
)
from prepaidgrid.services.recharges import ApplyRecharge, apply_recharge
from prepaidgrid.services.true_up import true_up_month
from tests.conftest import ist, org_chain
from tests.integration.accounts_support import account_below_zero

pytestmark = pytest.mark.integration
POLICIES = PackagedPolicyBook()
TARIFFS = PackagedTariffBook()
INSTALLED = ist(2025, 6, 30, 12)
JULY = date(2025, 7, 1)
FAST_HASHER = Argon2Hasher(time_cost=1, memory_cost_kib=8_192)


def open_account(
    engine: Engine,
    account_id: str,
    *,
    mobile: str = "9876500001",
    postpaid_balance_paise: int = 0,
    recovery: RecoveryKind = RecoveryKind.DAILY_INSTALMENTS,
) -> SettableClock:
    """A DS-II consumer (2 kW) on meter M-{account_id}, installed at noon on 30 June; the
    clock left there."""
    clock = SettableClock(INSTALLED)
    with contextlib.suppress(AlreadyExists):
        add_org_units(org_chain("SUB-1"), SqlUnitOfWork(engine))
    open_connection(
        NewConnection(
            account_id, f"Consumer {account_id}", mobile, "DS-II", 2000, "SUB-1", "SBPDCL",
            email=f"{account_id.lower()}@example.in",
        ),
        SqlUnitOfWork(engine),
        clock,
    )  # fmt: skip
    install_smart_meter(
        InstallSmartMeter(account_id, f"M-{account_id}", postpaid_balance_paise, recovery=recovery),
        SqlUnitOfWork(engine),
        clock,
        POLICIES,
    )
    return clock


def recharge(engine: Engine, clock: SettableClock, account_id: str, amount_paise: int) -> None:
    reference = f"upi-{account_id}-{clock.now().timestamp():.0f}"
    apply_recharge(
        ApplyRecharge(account_id, amount_paise, PaymentRef(PaymentChannel.APP, reference)),
        SqlUnitOfWork(engine),
        clock,
        POLICIES,
    )


def charge(engine: Engine, clock: SettableClock, account_id: str, day: date, used_wh: int) -> int:
    """Post the day just after its midnight; what it took from the wallet."""
    clock.set(ist(day.year, day.month, day.day, 0, 30) + timedelta(days=1))
    result = post_daily_charge(
        PostDailyCharge(account_id, day, used_wh),
        SqlUnitOfWork(engine),
        clock,
        TARIFFS,
        POLICIES,
    )
    assert result.is_new
    return result.total_paise + result.instalment_paise


def ledger_balance(engine: Engine, code: str) -> int:
    with engine.connect() as db:
        query = select(func.coalesce(func.sum(postings.c.amount_paise), 0)).where(
            postings.c.ledger_account == code
        )
        return int(db.execute(query).scalar_one())


def ingest(engine: Engine, clock: SettableClock, readings: list[Reading]) -> None:
    batch = [Received(t, decode_uplink(t, p)) for t, p in map(encode_uplink, readings)]
    result = ingest_uplinks(batch, SqlUnitOfWork(engine), clock, POLICIES)
    assert result.rejected == {}


def snapshot(meter_id: str, at: datetime, register_wh: int) -> Reading:
    return Reading(
        "SBPDCL", meter_id, f"{meter_id}-{at.isoformat()}", at, ReadingKind.DAILY, at,
        register_wh,
    )  # fmt: skip


def blocks_of(
    meter_id: str, blocks: list[tuple[datetime, int]], register_wh: int = 0
) -> list[Reading]:
    """One reading per 30-minute block, the register rising by each block's Wh."""
    readings = []
    for start, used_wh in blocks:
        register_wh += used_wh
        end = start + timedelta(minutes=30)
        reading = Reading(
            "SBPDCL", meter_id, f"{meter_id}-{start.isoformat()}", end, ReadingKind.BLOCK_LOAD,
            end, register_wh, blocks=(MeterBlock(start, 30, used_wh),),
        )  # fmt: skip
        readings.append(reading)
    return readings


_STATEMENT_COLUMNS = (
    "bill_day", "used_wh", "month_used_wh", "max_demand_w", "energy_paise", "tod_paise",
    "fixed_paise", "duty_paise", "subsidy_paise", "rebate_paise", "total_paise",
    "instalment_paise", "tariff_id", "posted_at",
)  # fmt: skip


def stored_charges(engine: Engine, account_id: str) -> list[StatementDay]:
    """The account's daily_charges rows as the services wrote them, in statement form."""
    with engine.connect() as db:
        rows = db.execute(
            select(daily_charges)
            .where(daily_charges.c.account_id == account_id)
            .order_by(daily_charges.c.bill_day)
        ).all()
    return [
        StatementDay(
            **{column: row._mapping[column] for column in _STATEMENT_COLUMNS},
            usage_method=None,
            is_billed_on_estimate=False,
            is_settled=False,
            lines=tuple(ChargeLine(**line) for line in row.explanation or ()),
        )
        for row in rows
    ]


def test_a_consumer_with_two_connections_on_one_mobile_sees_both(engine: Engine) -> None:
    clock = open_account(engine, "HOME-2", mobile="9812345001")
    open_account(engine, "HOME-1", mobile="9812345001")
    open_account(engine, "NEIGHBOUR", mobile="9812345002")
    recharge(engine, clock, "HOME-2", 75_000)

    seen = SqlConsumerPortal(engine).accounts_of_mobile("9812345001")

    assert [(a.account_id, a.consumer_name, a.wallet_paise) for a in seen] == [
        ("HOME-1", "Consumer HOME-1", 0),
        ("HOME-2", "Consumer HOME-2", 75_000),
    ]
    # a wallet of zero is no credit: grace from the meter's installation
    assert [a.supply_state for a in seen] == [SupplyState.GRACE, SupplyState.CONNECTED]
    assert SqlConsumerPortal(engine).accounts_of_mobile("9000000000") == []


def test_the_overview_balance_equals_the_ledger_after_a_recharge_and_charges(
    engine: Engine,
) -> None:
    clock = open_account(
        engine, "ACC-1", postpaid_balance_paise=-30_000, recovery=RecoveryKind.RECHARGE_SHARE
    )
    clock.set(ist(2025, 7, 1, 9))
    recharge(engine, clock, "ACC-1", 40_000)  # a quarter of it goes to the old dues
    first = charge(engine, clock, "ACC-1", JULY, 6_000)
    second = charge(engine, clock, "ACC-1", date(2025, 7, 2), 9_000)

    overview = SqlConsumerPortal(engine).overview("ACC-1", date(2025, 7, 3))

    assert overview is not None
    assert overview.wallet_paise == ledger_balance(engine, wallet("ACC-1")) < 30_000
    assert overview.arrears_paise == -ledger_balance(engine, arrears("ACC-1")) == 20_000
    assert overview.average_daily_charge_paise == (first + second + 1) // 2  # half up
    assert (overview.account_id, overview.consumer_name, overview.meter_id) == (
        "ACC-1",
        "Consumer ACC-1",
        "M-ACC-1",
    )
    assert (overview.category, overview.sanctioned_load_w, overview.language) == (
        "DS-II",
        2000,
        "hi",
    )
    assert (overview.mobile_masked, overview.email) == ("98xxxxx001", "acc-1@example.in")
    assert (overview.supply_state, overview.zero_at, overview.cut_at) == (
        SupplyState.CONNECTED,
        None,
        None,
    )


def test_days_left_is_the_wallet_over_the_average_of_the_last_seven_billed_days(
    engine: Engine,
) -> None:
    # old dues recovered in daily instalments: they leave the wallet with each day's charge
    clock = open_account(engine, "ACC-1", postpaid_balance_paise=-60_000)
    recharge(engine, clock, "ACC-1", 300_000)
    used_wh = [3_000, 9_000, 4_000, 12_000, 6_000, 2_000, 8_000, 5_000, 15_000]
    days = [JULY + timedelta(days=n) for n in range(len(used_wh))]
    taken = {
        day: charge(engine, clock, "ACC-1", day, wh) for day, wh in zip(days, used_wh, strict=True)
    }
    today = days[-1]  # already billed (a test's clock may run ahead): not "before today"

    overview = SqlConsumerPortal(engine).overview("ACC-1", today)

    # the seven billed days before 9 July are 2-8 July; 1 July is one too many. With the
    # packaged FY 2025-26 DS-II tariff they took 23,959 paise: 3,422.71 a day, so 3,423,
    # and the wallet's 2,67,099 paise last 78 whole days.
    recent = sum(taken[day] for day in days[1:8])
    average = (2 * recent + 7) // 14  # recent / 7, rounded half up
    assert overview is not None
    assert overview.average_daily_charge_paise == average > 0
    assert overview.wallet_paise == ledger_balance(engine, wallet("ACC-1"))
    assert overview.days_left == overview.wallet_paise // average
    assert sum(taken.values()) == 300_000 - overview.wallet_paise  # instalments counted in


def test_days_left_is_unknown_without_charges_or_without_credit(engine: Engine) -> None:
    clock = open_account(engine, "FRESH")
    recharge(engine, clock, "FRESH", 10_000)
    owing = account_below_zero(engine, SettableClock(INSTALLED))

    fresh = SqlConsumerPortal(engine).overview("FRESH", date(2025, 7, 2))
    below = SqlConsumerPortal(engine).overview(owing, date(2025, 7, 2))

    assert fresh is not None
    assert (fresh.wallet_paise, fresh.average_daily_charge_paise, fresh.days_left) == (
        10_000,
        0,
        None,
    )
    assert below is not None
    assert below.wallet_paise < 0 < below.average_daily_charge_paise
    assert below.days_left is None
    assert below.supply_state is SupplyState.GRACE
    assert below.zero_at is not None
    assert below.cut_at is not None


def test_the_statement_shows_each_day_as_the_billing_posted_it(engine: Engine) -> None:
    clock = open_account(engine, "ACC-1", postpaid_balance_paise=-60_000)
    recharge(engine, clock, "ACC-1", 100_000)
    for n, used_wh in enumerate([4_000, 0, 11_000]):
        charge(engine, clock, "ACC-1", JULY + timedelta(days=n), used_wh)

    statement = SqlConsumerPortal(engine).statement("ACC-1", JULY, date(2025, 7, 31))
    first_two = SqlConsumerPortal(engine).statement("ACC-1", date(2025, 6, 1), date(2025, 7, 2))

    assert statement == stored_charges(engine, "ACC-1")
    assert [day.bill_day for day in first_two] == [JULY, date(2025, 7, 2)]
    for day in statement:
        assert day.total_paise == (
            day.energy_paise + day.tod_paise + day.fixed_paise + day.duty_paise
            - day.subsidy_paise - day.rebate_paise
        )  # fmt: skip
        assert sum(line.amount_paise for line in day.lines) == day.total_paise
        assert day.lines
        assert day.instalment_paise == 200  # 600 rupees over 300 days
        assert (day.usage_method, day.is_billed_on_estimate, day.is_settled) == (
            None,
            False,
            False,
        )


def test_a_day_billed_on_an_estimate_is_shown_as_such_until_trued_up(engine: Engine) -> None:
    clock = open_account(engine, "ACC-1")
    recharge(engine, clock, "ACC-1", 100_000)
    days = [JULY + timedelta(days=n) for n in range(3)]
    clock.set(ist(2025, 7, 4, 0, 30))
    for day in days:  # no reads yet: each day is the category's fallback figure
        compute_daily_usage(day, SqlUnitOfWork(engine), clock)
    bill_days(days[0], days[-1], lambda: SqlUnitOfWork(engine), clock, TARIFFS, POLICIES)
    portal = SqlConsumerPortal(engine)
    estimated = portal.statement("ACC-1", JULY, days[-1])
    clock.set(ist(2025, 7, 4, 6))  # the meter's midnight snapshots arrive late
    ingest(
        engine,
        clock,
        [
            snapshot("M-ACC-1", ist(2025, 7, 1), 10_000),
            snapshot("M-ACC-1", ist(2025, 7, 4), 22_000),
        ],
    )
    clock.set(ist(2025, 8, 1, 2))
    true_up_month(JULY, lambda: SqlUnitOfWork(engine), clock, TARIFFS, POLICIES)

    settled = portal.statement("ACC-1", JULY, days[-1])

    assert [(d.usage_method, d.is_billed_on_estimate, d.is_settled) for d in estimated] == [
        (UsageMethod.FALLBACK, True, False)
    ] * 3
    assert [(d.usage_method, d.is_billed_on_estimate, d.is_settled) for d in settled] == [
        (UsageMethod.APPORTIONED, True, True)
    ] * 3
    billed = [(d.bill_day, d.used_wh, d.total_paise) for d in stored_charges(engine, "ACC-1")]
    assert [(d.bill_day, d.used_wh, d.total_paise) for d in settled] == billed
    assert all(d.lines == () for d in settled)  # the billing run stores no explanation
    assert [u.used_wh for u in portal.daily_use("ACC-1", JULY, days[-1])] == [4_000] * 3


def test_daily_use_lists_the_days_meter_data_holds_with_estimates_flagged(
    engine: Engine,
) -> None:
    clock = open_account(engine, "ACC-1")
    clock.set(ist(2025, 7, 3, 0, 10))
    ingest(
        engine,
        clock,
        [
            snapshot("M-ACC-1", ist(2025, 7, 1), 10_000),
            snapshot("M-ACC-1", ist(2025, 7, 2), 14_500),
        ],
    )
    for day in (JULY, date(2025, 7, 2)):  # 2 July's closing midnight is not known yet
        compute_daily_usage(day, SqlUnitOfWork(engine), clock)

    days = SqlConsumerPortal(engine).daily_use("ACC-1", JULY, date(2025, 7, 31))
    first = SqlConsumerPortal(engine).daily_use("ACC-1", date(2025, 6, 1), JULY)

    assert [(d.day, d.used_wh, d.method, d.is_estimated) for d in days] == [
        (JULY, 4_500, UsageMethod.ACTUAL, False),
        (date(2025, 7, 2), 4_500, UsageMethod.AVERAGE, True),
    ]
    assert {d.meter_id for d in days} == {"M-ACC-1"}
    assert [d.day for d in first] == [JULY]


def test_half_hourly_returns_only_the_blocks_that_start_in_that_ist_day(engine: Engine) -> None:
    clock = open_account(engine, "ACC-1")
    open_account(engine, "OTHER")
    blocks = [
        (ist(2025, 7, 1, 23, 30), 110),  # the day before
        (ist(2025, 7, 2, 0, 0), 120),
        (ist(2025, 7, 2, 12, 0), 130),
        (ist(2025, 7, 2, 23, 30), 140),
        (ist(2025, 7, 3, 0, 0), 150),  # the day after
    ]
    clock.set(ist(2025, 7, 3, 1))
    ingest(engine, clock, blocks_of("M-ACC-1", blocks))
    ingest(engine, clock, blocks_of("M-OTHER", [(ist(2025, 7, 2, 0, 0), 999)]))

    day = SqlConsumerPortal(engine).half_hourly("ACC-1", date(2025, 7, 2))

    assert day == [
        Block(ist(2025, 7, 2, 0, 0), 30, 120, "M-ACC-1"),
        Block(ist(2025, 7, 2, 12, 0), 30, 130, "M-ACC-1"),
        Block(ist(2025, 7, 2, 23, 30), 30, 140, "M-ACC-1"),
    ]
    assert day[0].start_at.utcoffset() == timedelta(0)  # an instant in UTC


def test_half_hourly_on_a_replacement_day_shows_both_meters(engine: Engine) -> None:
    clock = open_account(engine, "ACC-1")
    clock.set(ist(2025, 7, 2, 11, 55))
    replace_meter(ReplaceMeter("ACC-1", "M-ACC-1", "M-NEW"), SqlUnitOfWork(engine), clock)
    clock.set(ist(2025, 7, 3, 1))
    ingest(engine, clock, blocks_of("M-ACC-1", [(ist(2025, 7, 2, 11, 0), 100)]))
    ingest(engine, clock, blocks_of("M-NEW", [(ist(2025, 7, 2, 12, 0), 200)]))

    day = SqlConsumerPortal(engine).half_hourly("ACC-1", date(2025, 7, 2))

    assert [(b.meter_id, b.used_wh) for b in day] == [("M-ACC-1", 100), ("M-NEW", 200)]


def test_a_counter_recharge_shows_its_receipt_number(engine: Engine) -> None:
    clock = open_account(engine, "ACC-1")
    clock.set(ist(2025, 7, 1, 9))
    recharge(engine, clock, "ACC-1", 20_000)
    key = register_counter(
        RegisterCounter("PAT-C1", "Patna office", "SUB-1"), SqlUnitOfWork(engine), clock
    ).signing_key
    add_cashier(
        AddCashier("RAM", "Ram", "PAT-C1", "chai-at-ten"), SqlUnitOfWork(engine), clock, FAST_HASHER
    )
    cash_taken_at = ist(2025, 7, 1, 11)
    receipt = Receipt("PAT-C1", 1, "RAM", "ACC-1", 50_000, cash_taken_at)
    signed = SignedReceipt(receipt, sign_receipt(bytes.fromhex(key), receipt), offline=True)
    clock.set(ist(2025, 7, 1, 12, 30))  # the counter synced after a network outage
    post_receipts(
        PostReceipts(CashierSession("RAM", "PAT-C1", clock.now() + timedelta(hours=1)), (signed,)),
        lambda: SqlUnitOfWork(engine),
        clock,
        POLICIES,
    )

    rows = SqlConsumerPortal(engine).recharges("ACC-1")
    latest = SqlConsumerPortal(engine).recharges("ACC-1", limit=1)

    assert [(r.channel, r.amount_paise, r.status) for r in rows] == [
        (PaymentChannel.COUNTER, 50_000, "credited"),
        (PaymentChannel.APP, 20_000, "credited"),
    ]
    counter, app = rows
    assert counter.receipt_no == counter.reference == receipt.receipt_no == "PAT-C1-0000001"
    assert counter.receipt_issued_at == cash_taken_at
    assert counter.received_at == counter.credited_at == ist(2025, 7, 1, 12, 30)
    assert (app.receipt_no, app.receipt_issued_at) == (None, None)
    assert app.credited_at == ist(2025, 7, 1, 9)
    assert latest == rows[:1]


def test_an_unknown_account_has_no_overview_and_nothing_to_list(engine: Engine) -> None:
    open_account(engine, "ACC-1")
    portal = SqlConsumerPortal(engine)

    assert portal.overview("NOBODY", JULY) is None
    assert portal.daily_use("NOBODY", JULY, date(2025, 7, 31)) == []
    assert portal.half_hourly("NOBODY", JULY) == []
    assert portal.statement("NOBODY", JULY, date(2025, 7, 31)) == []
    assert portal.recharges("NOBODY") == []


def test_the_portal_reads_inside_the_callers_transaction(engine: Engine) -> None:
    clock = open_account(engine, "ACC-1")
    recharge(engine, clock, "ACC-1", 5_000)

    with engine.connect() as db, db.begin():
        portal = SqlConsumerPortal(db)
        overview = portal.overview("ACC-1", JULY)
        summaries = portal.accounts_of_mobile("9876500001")

    assert overview is not None
    assert [s.wallet_paise for s in summaries] == [overview.wallet_paise] == [5_000]
