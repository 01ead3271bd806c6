"""Daily charges on fakes: exactly once, grace on zero, arrears instalments, monthly sums."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepaidgrid.adapters.books import PackagedPolicyBook, PackagedTariffBook
from prepaidgrid.domain.accounts import NewConnection
from prepaidgrid.domain.errors import InvalidUsage
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef, wallet
from prepaidgrid.domain.supply import SupplyState
from prepaidgrid.domain.tariffs import Usage, monthly_bill
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.onboarding import InstallSmartMeter, install_smart_meter, open_connection
from prepaidgrid.services.recharges import ApplyRecharge, apply_recharge
from tests.conftest import ist
from tests.fakes import FakeUnitOfWork, FixedClock

POLICIES = PackagedPolicyBook()
TARIFFS = PackagedTariffBook()


def account_with(uow: FakeUnitOfWork, balance_paise: int, postpaid_paise: int = 0) -> None:
    clock = FixedClock(ist(2025, 6, 30, 18))
    open_connection(
        NewConnection("ACC-1", "Test", "9876500001", "DS-II", 2000, "SUB-1", "SBPDCL"), uow, clock
    )
    install_smart_meter(InstallSmartMeter("ACC-1", "SM-1", postpaid_paise), uow, clock, POLICIES)
    if balance_paise:
        apply_recharge(
            ApplyRecharge("ACC-1", balance_paise, PaymentRef(PaymentChannel.APP, "open")),
            uow,
            clock,
            POLICIES,
        )


def post(uow: FakeUnitOfWork, day: date, used_wh: int, md_w: int = 0) -> int:
    at = FixedClock(ist(day.year, day.month, day.day, 0, 30) + timedelta(days=1))
    return post_daily_charge(
        PostDailyCharge("ACC-1", day, used_wh, md_w), uow, at, TARIFFS, POLICIES
    ).total_paise


def test_a_day_posted_twice_is_charged_once() -> None:
    uow = FakeUnitOfWork()
    account_with(uow, 100_000)

    post(uow, date(2025, 7, 1), 5_000)
    post(uow, date(2025, 7, 1), 5_000)

    assert [j.key for j in uow.ledger.journals if j.kind == "charge"] == ["charge:ACC-1:2025-07-01"]


def test_a_charge_that_empties_the_wallet_starts_the_grace_with_a_warning() -> None:
    uow = FakeUnitOfWork()
    account_with(uow, 1_000)  # ₹10: one day of 5 units costs more

    post(uow, date(2025, 7, 1), 5_000)  # posted Wed 02 Jul 00:30 IST

    connection = uow.connections.get("ACC-1")
    assert connection.wallet_paise <= 0
    assert connection.supply.state is SupplyState.GRACE
    assert connection.supply.cut_at == ist(2025, 7, 3, 10)  # grace 24 h, then the window
    warnings = [
        m
        for m in uow.outbox.of_kind("sms")
        if m.payload["template"] == "zero_balance" and m.created_at == ist(2025, 7, 2, 0, 30)
    ]
    assert len(warnings) == 1
    assert "03-07-2025" in str(warnings[0].payload["text"])


def test_arrears_of_3000_rupees_over_300_days_are_10_rupees_a_day() -> None:
    uow = FakeUnitOfWork()
    account_with(uow, 100_000, postpaid_paise=-300_000)

    post(uow, date(2025, 7, 1), 0)
    post(uow, date(2025, 7, 2), 0)

    connection = uow.connections.get("ACC-1")
    assert connection.arrears_paise == -300_000 + 2 * 1_000
    assert [j.key for j in uow.ledger.journals if j.kind == "instalment"] == [
        "instalment:ACC-1:2025-07-01",
        "instalment:ACC-1:2025-07-02",
    ]


@settings(max_examples=25, deadline=None)
@given(
    daily_wh=st.lists(st.integers(0, 25_000), min_size=31, max_size=31),
    md_w=st.lists(st.integers(0, 4_000), min_size=31, max_size=31),
    month=st.sampled_from([date(2025, 7, 1), date(2025, 8, 1), date(2026, 5, 1)]),
)
def test_a_months_posted_charges_equal_its_monthly_bill(
    daily_wh: list[int], md_w: list[int], month: date
) -> None:
    uow = FakeUnitOfWork()
    account_with(uow, 10_000_000)
    days = 31

    for n in range(days):
        post(uow, month + timedelta(days=n), daily_wh[n], md_w[n])

    tariff = TARIFFS.in_force("SBPDCL", month).category("DS-II")
    bill = monthly_bill(
        tariff,
        Usage(sum(daily_wh), days, days, month, 2000, max(md_w)),
    )
    charged = -sum(
        p.amount_paise
        for j in uow.ledger.journals
        if j.kind == "charge"
        for p in j.postings
        if p.ledger_account == wallet("ACC-1")
    )
    assert charged == bill.total_paise


def test_a_consumer_who_joins_mid_month_gets_free_units_for_the_days_in_service() -> None:
    uow = FakeUnitOfWork()
    clock = FixedClock(ist(2025, 8, 17, 11))  # 15 days of August left: 62.5 free units
    open_connection(
        NewConnection("ACC-1", "Test", "9876500001", "DS-II", 2000, "SUB-1", "SBPDCL"), uow, clock
    )
    install_smart_meter(InstallSmartMeter("ACC-1", "SM-1", 1_000_000), uow, clock, POLICIES)

    charged = [post(uow, date(2025, 8, 17 + n), 5_000) for n in range(15)]

    # 75 units in 15 days: the first 62.5 are free, so charges start on day 13 (65 units)
    assert charged[:12] == [0] * 12
    assert all(total > 0 for total in charged[12:])
    tariff = TARIFFS.in_force("SBPDCL", date(2025, 8, 1)).category("DS-II")
    bill = monthly_bill(tariff, Usage(75_000, 15, 15, date(2025, 8, 1), 2000, 0))
    assert sum(charged) == bill.total_paise
    assert bill.free_wh == 62_500


def test_a_day_before_the_smart_meter_cannot_be_billed() -> None:
    uow = FakeUnitOfWork()
    account_with(uow, 10_000)  # installed 2025-06-30

    with pytest.raises(InvalidUsage, match="became prepaid on 2025-06-30"):
        post(uow, date(2025, 6, 29), 5_000)

    assert uow.charges.rows == {}
