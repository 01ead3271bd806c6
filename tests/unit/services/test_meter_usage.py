"""Daily usage from stored meter data, and its billing, on fakes."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from prepaidgrid.adapters.books import PackagedPolicyBook, PackagedTariffBook
from prepaidgrid.domain.accounts import NewConnection
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.meter_protocol import Event, EventKind, Reading, ReadingKind
from prepaidgrid.domain.meterdata import UsageMethod
from prepaidgrid.domain.units import ist_midnight
from prepaidgrid.services.meter_usage import (
    FALLBACK_WH_PER_DAY,
    bill_metered_day,
    compute_daily_usage,
)
from prepaidgrid.services.onboarding import (
    InstallSmartMeter,
    ReplaceMeter,
    install_smart_meter,
    open_connection,
    replace_meter,
)
from prepaidgrid.services.ports import DailyUsageRow
from prepaidgrid.services.recharges import ApplyRecharge, apply_recharge
from tests.conftest import ist
from tests.fakes import FakeUnitOfWork, FixedClock

POLICIES = PackagedPolicyBook()
TARIFFS = PackagedTariffBook()
INSTALLED = ist(2025, 6, 30, 18)
JULY_1, JULY_2, JULY_3 = date(2025, 7, 1), date(2025, 7, 2), date(2025, 7, 3)
SEND_DELAY = timedelta(minutes=5)  # a meter uploads a read a few minutes after taking it


def account(
    uow: FakeUnitOfWork,
    account_id: str = "ACC-1",
    meter_id: str = "SM-1",
    category: str = "DS-II",
    balance_paise: int = 100_000,
) -> None:
    clock = FixedClock(INSTALLED)
    open_connection(
        NewConnection(account_id, "Test", "9876500001", category, 2000, "SUB-1", "SBPDCL"),
        uow,
        clock,
    )
    install_smart_meter(InstallSmartMeter(account_id, meter_id), uow, clock, POLICIES)
    if balance_paise:
        payment = PaymentRef(PaymentChannel.APP, f"open-{account_id}")
        apply_recharge(ApplyRecharge(account_id, balance_paise, payment), uow, clock, POLICIES)


def read(
    uow: FakeUnitOfWork, at: datetime, import_wh: int, meter_id: str = "SM-1", md_w: int = 0
) -> None:
    sent = at + SEND_DELAY
    reading = Reading(
        "SBPDCL",
        meter_id,
        f"{meter_id}-{at.isoformat()}",
        sent,
        ReadingKind.INSTANT,
        at,
        import_wh,
        max_demand_w=md_w,
    )
    uow.meter_data.add_reads([reading], received_at=sent)


def midnight(day: date) -> datetime:
    return ist_midnight(day)


def compute(uow: FakeUnitOfWork, day: date) -> object:
    return compute_daily_usage(day, uow, FixedClock(midnight(day + timedelta(days=1)) + SEND_DELAY))


def row(uow: FakeUnitOfWork, day: date, account_id: str = "ACC-1") -> DailyUsageRow:
    return uow.meter_data.usage[(account_id, day)]


def bill(uow: FakeUnitOfWork, day: date) -> object:
    clock = FixedClock(midnight(day + timedelta(days=1)) + timedelta(minutes=30))
    return bill_metered_day(day, lambda: uow, clock, TARIFFS, POLICIES)


def test_a_day_read_at_both_midnights_is_actual() -> None:
    uow = FakeUnitOfWork()
    account(uow)
    read(uow, midnight(JULY_1), 10_000)
    read(uow, ist(2025, 7, 1, 13), 12_000, md_w=1_400)
    read(uow, midnight(JULY_2), 15_000, md_w=1_800)

    run = compute(uow, JULY_1)

    usage = row(uow, JULY_1)
    assert (usage.used_wh, usage.method) == (5_000, UsageMethod.ACTUAL)
    assert (usage.opening_wh, usage.closing_wh) == (10_000, 15_000)
    assert usage.max_demand_w == 1_800
    assert usage.flags == ()
    assert usage.meter_id == "SM-1"
    assert (run.accounts, run.actual, run.estimated, run.flagged) == (1, 1, 0, 0)


def test_a_day_without_its_closing_read_is_estimated_from_the_recent_actual_days() -> None:
    uow = FakeUnitOfWork()
    account(uow)
    for day, register_wh in [(1, 10_000), (2, 14_000), (3, 19_000), (4, 25_000)]:
        read(uow, midnight(date(2025, 7, day)), register_wh)

    run = compute(uow, date(2025, 7, 4))

    usage = row(uow, date(2025, 7, 4))
    assert (usage.used_wh, usage.method) == (5_000, UsageMethod.AVERAGE)  # (4 + 5 + 6) / 3 kWh
    assert usage.closing_wh is None
    assert (run.actual, run.estimated) == (0, 1)


def test_a_meter_without_any_actual_day_is_estimated_at_its_category_figure() -> None:
    uow = FakeUnitOfWork()
    account(uow)
    read(uow, ist(2025, 7, 1, 9), 10_000)

    compute(uow, JULY_1)

    usage = row(uow, JULY_1)
    assert (usage.used_wh, usage.method) == (FALLBACK_WH_PER_DAY["DS-II"], UsageMethod.FALLBACK)


def test_a_spike_is_flagged_and_never_priced() -> None:
    uow = FakeUnitOfWork()
    account(uow)
    read(uow, midnight(JULY_1), 10_000)
    read(uow, ist(2025, 7, 1, 12), 110_000)  # 100 kWh in 12 h on a 2 kW connection
    read(uow, midnight(JULY_2), 15_000)

    run = compute(uow, JULY_1)

    usage = row(uow, JULY_1)
    assert (usage.used_wh, usage.method) == (5_000, UsageMethod.ACTUAL)
    assert usage.flags == ("spike",)
    assert run.flagged == 1


def test_a_backwards_read_is_flagged_and_the_day_priced_from_the_others() -> None:
    uow = FakeUnitOfWork()
    account(uow)
    read(uow, midnight(JULY_1), 10_000)
    read(uow, ist(2025, 7, 1, 12), 9_000)
    read(uow, midnight(JULY_2), 15_000)

    compute(uow, JULY_1)

    usage = row(uow, JULY_1)
    assert (usage.used_wh, usage.flags) == (5_000, ("backwards",))


def test_a_read_from_a_meter_with_a_wrong_clock_is_flagged_and_still_priced() -> None:
    uow = FakeUnitOfWork()
    account(uow)
    read(uow, midnight(JULY_1), 10_000)
    late_clock = midnight(JULY_2) - timedelta(hours=1)  # the meter's clock is an hour behind
    reading = Reading(
        "SBPDCL", "SM-1", "SM-1-skewed", late_clock, ReadingKind.DAILY, midnight(JULY_2), 15_000
    )
    uow.meter_data.add_reads([reading], received_at=midnight(JULY_2) + SEND_DELAY)

    compute(uow, JULY_1)

    assert (row(uow, JULY_1).used_wh, row(uow, JULY_1).flags) == (5_000, ("clock_skew",))


def test_reads_that_contradict_the_swap_record_are_estimated_and_flagged() -> None:
    uow = FakeUnitOfWork()
    account(uow)
    read(uow, midnight(JULY_1), 10_000)
    replace_meter(ReplaceMeter("ACC-1", "SM-1", "SM-2"), uow, FixedClock(ist(2025, 7, 1, 14)))
    read(uow, ist(2025, 7, 1, 14, 30), 500, meter_id="SM-2")
    read(uow, ist(2025, 7, 1, 15), 12_000)  # the old meter still reading after the new one
    read(uow, midnight(JULY_2), 3_500, meter_id="SM-2")

    run = compute(uow, JULY_1)

    usage = row(uow, JULY_1)
    assert (usage.method, usage.flags) == (UsageMethod.FALLBACK, ("unusable_reads",))
    assert "reads unusable" in usage.note
    assert (run.estimated, run.flagged) == (1, 1)
    assert run.examples["unusable_reads"].startswith("ACC-1: ")


def test_a_meter_replaced_during_the_day_counts_both_meters() -> None:
    uow = FakeUnitOfWork()
    account(uow)
    swap = ist(2025, 7, 1, 14)
    read(uow, midnight(JULY_1), 10_000)
    replace_meter(
        ReplaceMeter("ACC-1", "SM-1", "SM-2"), uow, FixedClock(swap - timedelta(minutes=2))
    )
    read(uow, swap, 12_000)  # the old meter's final read, and its METER_REPLACED event
    uow.meter_data.add_events(
        [Event("SBPDCL", "SM-1", "SM-1-e1", swap, EventKind.METER_REPLACED, swap, None, 12_000)],
        swap + SEND_DELAY,
    )
    read(uow, ist(2025, 7, 1, 14, 30), 500, meter_id="SM-2")  # the new meter: register 500
    read(uow, midnight(JULY_2), 3_500, meter_id="SM-2")

    compute(uow, JULY_1)

    usage = row(uow, JULY_1)
    assert (usage.used_wh, usage.method) == (2_000 + 3_000, UsageMethod.ACTUAL)
    assert usage.meter_id == "SM-2"
    assert usage.flags == ()
    assert "SM-1 replaced by SM-2 at 14:00 IST" in usage.note


def test_a_meter_whose_clock_dates_the_swap_early_is_still_stitched_by_its_reads() -> None:
    uow = FakeUnitOfWork()
    account(uow)
    swap = ist(2025, 7, 1, 14)
    read(uow, midnight(JULY_1), 10_000)
    replace_meter(ReplaceMeter("ACC-1", "SM-1", "SM-2"), uow, FixedClock(swap))
    read(uow, swap, 12_000)
    early = swap - timedelta(hours=1)  # the old meter's clock runs an hour late
    uow.meter_data.add_events(
        [Event("SBPDCL", "SM-1", "SM-1-e1", early, EventKind.METER_REPLACED, early, None, 12_000)],
        swap,
    )
    read(uow, midnight(JULY_2), 3_000, meter_id="SM-2")

    compute(uow, JULY_1)

    assert row(uow, JULY_1).used_wh == 2_000  # the new meter's first read stands for its start


def test_the_installation_day_is_priced_from_the_first_read() -> None:
    uow = FakeUnitOfWork()
    account(uow)  # installed 2025-06-30 18:00 IST
    read(uow, ist(2025, 6, 30, 18, 30), 1_000)
    read(uow, midnight(JULY_1), 1_800)

    compute(uow, date(2025, 6, 30))

    usage = row(uow, date(2025, 6, 30))
    assert (usage.used_wh, usage.method) == (800, UsageMethod.ACTUAL)
    assert "first read stands for the register before it" in usage.note


def test_days_before_a_new_meters_first_read_are_not_charged_an_estimate() -> None:
    uow = FakeUnitOfWork()
    account(uow)  # installed 2025-06-30 18:00 IST; the meter first reports at 01:00 next day
    read(uow, ist(2025, 7, 1, 1), 1_000)
    read(uow, midnight(JULY_2), 5_000)

    compute(uow, date(2025, 6, 30))
    compute(uow, JULY_1)

    assert (row(uow, date(2025, 6, 30)).used_wh, row(uow, JULY_1).used_wh) == (0, 4_000)
    assert row(uow, date(2025, 6, 30)).method is UsageMethod.ACTUAL


def test_the_partial_installation_day_never_feeds_an_average() -> None:
    uow = FakeUnitOfWork()
    account(uow)
    read(uow, ist(2025, 6, 30, 18, 30), 1_000)
    read(uow, midnight(JULY_1), 1_200)  # 200 Wh in the installation evening
    read(uow, midnight(JULY_2), 5_200)
    read(uow, midnight(JULY_3), 11_200)

    compute(uow, JULY_3)  # its closing read is missing

    assert (row(uow, JULY_3).used_wh, row(uow, JULY_3).method) == (5_000, UsageMethod.AVERAGE)


def test_a_day_before_the_installation_is_skipped() -> None:
    uow = FakeUnitOfWork()
    account(uow)

    run = compute(uow, date(2025, 6, 29))

    assert run.skipped == {"not_prepaid_yet": 1}
    assert uow.meter_data.usage == {}


def test_recomputing_an_unbilled_day_replaces_its_row() -> None:
    uow = FakeUnitOfWork()
    account(uow)
    read(uow, midnight(JULY_1), 10_000)
    compute(uow, JULY_1)
    assert row(uow, JULY_1).method is UsageMethod.FALLBACK

    read(uow, midnight(JULY_2), 14_000)  # the closing read arrives late
    run = compute(uow, JULY_1)

    assert (row(uow, JULY_1).used_wh, row(uow, JULY_1).method) == (4_000, UsageMethod.ACTUAL)
    assert len(uow.meter_data.usage) == 1
    assert (run.actual, run.skipped) == (1, {})


def test_a_billed_day_is_not_recomputed() -> None:
    uow = FakeUnitOfWork()
    account(uow)
    read(uow, midnight(JULY_1), 10_000)
    compute(uow, JULY_1)
    bill(uow, JULY_1)
    billed = row(uow, JULY_1)

    read(uow, midnight(JULY_2), 14_000)
    run = compute(uow, JULY_1)

    assert row(uow, JULY_1) == billed  # still the estimate: a true-up corrects it later
    assert billed.method is UsageMethod.FALLBACK
    assert run.skipped == {"billed": 1}
    assert (run.actual, run.estimated) == (0, 0)


def test_billing_a_day_posts_each_account_once() -> None:
    uow = FakeUnitOfWork()
    account(uow)
    read(uow, midnight(JULY_1), 10_000)
    read(uow, midnight(JULY_2), 15_000)
    compute(uow, JULY_1)

    first = bill(uow, JULY_1)
    again = bill(uow, JULY_1)

    charge = uow.charges.rows[("ACC-1", JULY_1)]
    assert charge.used_wh == 5_000
    assert (first.billed, first.charged_paise) == (1, charge.total_paise)
    assert (again.billed, again.already_billed, again.charged_paise) == (0, 1, 0)


def test_an_account_billing_refuses_is_counted_and_the_others_are_billed() -> None:
    uow = FakeUnitOfWork()
    account(uow)
    account(uow, "ACC-2", "SM-2", category="HT-9")  # no such category in the tariff
    for meter_id in ("SM-1", "SM-2"):
        read(uow, midnight(JULY_1), 10_000, meter_id=meter_id)
        read(uow, midnight(JULY_2), 15_000, meter_id=meter_id)
    compute(uow, JULY_1)

    run = bill(uow, JULY_1)

    assert (run.accounts, run.billed, run.errors) == (2, 1, {"UnknownCategory": 1})
    assert run.examples["UnknownCategory"].startswith("ACC-2: ")


def test_a_charge_that_empties_the_wallet_is_counted_as_entering_grace() -> None:
    uow = FakeUnitOfWork()
    account(uow, balance_paise=1_000)
    read(uow, midnight(JULY_1), 10_000)
    read(uow, midnight(JULY_2), 40_000)
    compute(uow, JULY_1)

    run = bill(uow, JULY_1)

    assert (run.billed, run.entered_grace) == (1, 1)


@settings(max_examples=60, deadline=None)
@given(
    daily_wh=st.lists(st.integers(0, 30_000), min_size=3, max_size=3),
    spikes=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 23)), max_size=3),
)
def test_glitched_reads_never_change_a_measured_days_use(
    daily_wh: list[int], spikes: list[tuple[int, int]]
) -> None:
    uow = FakeUnitOfWork()
    account(uow)
    registers = [10_000]
    for used in daily_wh:
        registers.append(registers[-1] + used)
    for n, register_wh in enumerate(registers):
        read(uow, midnight(JULY_1 + timedelta(days=n)), register_wh)
    for day_index, hour in spikes:  # a wild register far above anything the load allows
        read(uow, ist(2025, 7, 1 + day_index, hour), registers[day_index] + 10_000_000)

    for n in range(3):
        compute(uow, JULY_1 + timedelta(days=n))

    used = [row(uow, JULY_1 + timedelta(days=n)).used_wh for n in range(3)]
    assert used == daily_wh
