"""A statement explains every day as it was debited: stored lines, or lines rebuilt from the
stored month to date that reproduce the debit to the paisa, or none at all."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepaidgrid.adapters.books import PackagedPolicyBook, PackagedTariffBook
from prepaidgrid.domain.accounts import NewConnection
from prepaidgrid.domain.tariffs import Bill, ChargeLine, Usage, daily_charge
from prepaidgrid.domain.units import days_in_month
from prepaidgrid.services.billing_run import DayRun, price_partition
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.onboarding import InstallSmartMeter, install_smart_meter, open_connection
from prepaidgrid.services.ports import BillingInputs, DailyCharge
from prepaidgrid.services.statement import AccountTerms, ChargedDay, explain_days
from tests.conftest import ist
from tests.fakes import FakeUnitOfWork, FixedClock

TARIFFS = PackagedTariffBook()
POLICIES = PackagedPolicyBook()
JULY_2025 = date(2025, 7, 1)
SEPTEMBER_2025 = date(2025, 9, 1)  # 125 free units a month from August 2025
TERMS = AccountTerms("SBPDCL", "DS-II", sanctioned_load_w=2000, migrated_at_day=None)
# A month of everyday use: 100 units (the first slab's ceiling) is crossed on the 16th.
USAGE_WH = (
    *(4_800, 0, 6_300, 11_750, 2_040, 8_800, 6_666, 12_024, 5_500, 1_960, 8_200),
    *(7_200, 14_500, 4_410, 0, 11_000, 8_098, 7_802, 5_200, 16_240, 2_998, 7_400),
    *(8_960, 5_998, 6_020, 13_212, 2_468, 8_642, 4_936, 7_158, 10_000),
)
# Demand mostly under the fixed charge's floor (75% of 2 kW), above it on a few days.
DEMAND_W = {5: 1_800, 13: 2_600, 20: 3_100, 27: 2_950}
COMPONENTS = (
    "energy_paise",
    "tod_paise",
    "fixed_paise",
    "duty_paise",
    "subsidy_paise",
    "rebate_paise",
    "total_paise",
)


def month_of_use(
    month: date, first: int = 1, gaps: frozenset[int] = frozenset()
) -> list[tuple[date, int, int]]:
    """(day, Wh used, max demand W) from the `first` of the month to its end."""
    return [
        (month.replace(day=n), USAGE_WH[n - 1], DEMAND_W.get(n, 900 + 13 * n))
        for n in range(first, days_in_month(month) + 1)
        if n not in gaps
    ]


def july(first: int = 1, gaps: frozenset[int] = frozenset()) -> list[tuple[date, int, int]]:
    return month_of_use(JULY_2025, first, gaps)


def charged_days(
    terms: AccountTerms, usage: Sequence[tuple[date, int, int]]
) -> list[tuple[ChargedDay, Bill]]:
    """Each day priced with the scalar engine as post_daily_charge prices it (the month to
    date summed over the days charged before it), stored with its lines."""
    charged: list[tuple[ChargedDay, Bill]] = []
    for bill_day, used_wh, max_demand_w in usage:
        month = bill_day.replace(day=1)
        earlier = [day for day, _ in charged if month <= day.bill_day < bill_day]
        mtd_used_wh = sum(day.used_wh for day in earlier)
        mtd_max_demand_w = max((day.max_demand_w for day in earlier), default=0)
        start = month if terms.migrated_at_day is None else max(month, terms.migrated_at_day)
        version = TARIFFS.in_force(terms.discom, bill_day)
        before = Usage(
            used_wh=mtd_used_wh,
            days=(bill_day - start).days,
            period_days=days_in_month(month) - (start - month).days,
            month=month,
            sanctioned_load_w=terms.sanctioned_load_w,
            max_demand_w=mtd_max_demand_w,
        )
        after = dataclasses.replace(
            before,
            used_wh=mtd_used_wh + used_wh,
            days=before.days + 1,
            max_demand_w=max(mtd_max_demand_w, max_demand_w),
        )
        bill = daily_charge(version.category(terms.category), before, after)
        day = ChargedDay(
            bill_day=bill_day,
            used_wh=used_wh,
            month_used_wh=after.used_wh,
            max_demand_w=after.max_demand_w,
            energy_paise=bill.energy_paise,
            tod_paise=bill.tod_paise,
            fixed_paise=bill.fixed_paise,
            duty_paise=bill.duty_paise,
            subsidy_paise=bill.subsidy_paise,
            rebate_paise=bill.rebate_paise,
            total_paise=bill.total_paise,
            tariff_id=version.id,
            lines=bill.lines,
        )
        charged.append((day, bill))
    return charged


def as_run_stored(charged: Sequence[tuple[ChargedDay, Bill]]) -> list[ChargedDay]:
    """The days as the billing run stores them: amounts, no explanation."""
    return [dataclasses.replace(day, lines=()) for day, _ in charged]


def engine_lines(
    charged: Sequence[tuple[ChargedDay, Bill]],
) -> dict[date, tuple[ChargeLine, ...]]:
    return {day.bill_day: bill.lines for day, bill in charged}


def test_a_run_billed_month_is_explained_with_the_lines_the_engine_gave_each_day() -> None:
    charged = charged_days(TERMS, july())

    explained = explain_days(as_run_stored(charged), TERMS, TARIFFS)

    assert explained == engine_lines(charged)
    crossing = explained[date(2025, 7, 16)]  # 94.15 -> 105.15 units: both slabs
    assert [line.code for line in crossing if line.code.startswith("energy.")] == [
        "energy.slab.1",
        "energy.slab.2",
    ]
    assert [line.quantity_wh for line in crossing if line.code.startswith("energy.")] == [
        5_850,
        5_150,
    ]


def test_each_explained_day_adds_up_to_what_was_debited() -> None:
    charged = charged_days(TERMS, july())

    explained = explain_days(as_run_stored(charged), TERMS, TARIFFS)

    for day, _ in charged:
        lines = explained[day.bill_day]
        assert lines, day.bill_day
        assert sum(line.amount_paise for line in lines) == day.total_paise
        codes = {line.code for line in lines}
        assert "fixed" in codes
        assert not day.used_wh or {"rebate", "duty"} <= codes  # a day without use has no duty


def test_a_day_of_high_demand_explains_its_fixed_charge_on_that_demand() -> None:
    charged = charged_days(TERMS, july())

    explained = explain_days(as_run_stored(charged), TERMS, TARIFFS)

    labels = {
        day: line.label
        for day, lines in explained.items()
        for line in lines
        if line.code == "fixed"
    }
    assert "1.5 kW billing demand" in labels[date(2025, 7, 4)]  # the floor: 75% of 2 kW
    assert "1.8 kW billing demand" in labels[date(2025, 7, 12)]  # the 5th's, highest so far
    assert "2.6 kW billing demand" in labels[date(2025, 7, 13)]
    assert "2.6 kW billing demand" in labels[date(2025, 7, 14)]


@pytest.mark.parametrize("component", COMPONENTS)
def test_a_day_whose_stored_amount_was_tampered_with_is_not_explained(component: str) -> None:
    stored = as_run_stored(charged_days(TERMS, july()))
    tampered = dataclasses.replace(stored[14], **{component: getattr(stored[14], component) + 1})
    stored[14] = tampered

    explained = explain_days(stored, TERMS, TARIFFS)

    assert explained[tampered.bill_day] == ()
    assert all(lines for day, lines in explained.items() if day != tampered.bill_day)


def test_a_day_priced_under_another_tariff_version_is_not_explained() -> None:
    stored = as_run_stored(charged_days(TERMS, july()))
    stored[3] = dataclasses.replace(stored[3], tariff_id="bihar-2024-25")

    explained = explain_days(stored, TERMS, TARIFFS)

    assert explained[stored[3].bill_day] == ()


@pytest.mark.parametrize("month", [JULY_2025, SEPTEMBER_2025])
def test_a_month_migrated_on_the_10th_is_explained_from_its_first_prepaid_day(
    month: date,
) -> None:
    terms = dataclasses.replace(TERMS, migrated_at_day=month.replace(day=10))
    charged = charged_days(terms, month_of_use(month, first=10))

    explained = explain_days(as_run_stored(charged), terms, TARIFFS)

    assert explained == engine_lines(charged)
    assert all(
        sum(line.amount_paise for line in explained[day.bill_day]) == day.total_paise
        for day, _ in charged
    )


def test_a_migration_taken_for_the_whole_month_leaves_days_unexplained() -> None:
    # September's free units are pro-rated on the days in service (21 from the 10th), so
    # taking the period for the whole month prices some day differently from its debit.
    terms = dataclasses.replace(TERMS, migrated_at_day=date(2025, 9, 10))
    stored = as_run_stored(charged_days(terms, month_of_use(SEPTEMBER_2025, first=10)))

    explained = explain_days(stored, TERMS, TARIFFS)

    assert () in explained.values()


def test_a_day_before_the_account_became_prepaid_is_not_explained() -> None:
    stored = as_run_stored(charged_days(TERMS, july()))
    terms = dataclasses.replace(TERMS, migrated_at_day=date(2025, 7, 10))

    explained = explain_days(stored[:3], terms, TARIFFS)

    assert explained == {date(2025, 7, n): () for n in (1, 2, 3)}


def test_stored_lines_are_returned_as_they_are() -> None:
    stored = as_run_stored(charged_days(TERMS, july()))
    legacy = (ChargeLine("legacy", "Charged under the pilot scheme", stored[6].total_paise),)
    stored[6] = dataclasses.replace(stored[6], lines=legacy)

    explained = explain_days(stored, TERMS, TARIFFS)

    assert explained[stored[6].bill_day] is legacy


def test_a_day_after_a_gap_takes_its_demand_from_the_latest_charged_day_before_it() -> None:
    # The 13th peaks at 2.6 kW; the 14th and 15th are not billed; the 16th is 1.1 kW.
    charged = charged_days(TERMS, july(gaps=frozenset({14, 15})))

    explained = explain_days(as_run_stored(charged), TERMS, TARIFFS)

    assert explained == engine_lines(charged)
    [fixed] = [line for line in explained[date(2025, 7, 16)] if line.code == "fixed"]
    assert "2.6 kW billing demand" in fixed.label


def test_each_month_starts_its_demand_afresh() -> None:
    june_30 = (date(2025, 6, 30), 9_000, 4_000)
    charged = charged_days(TERMS, [june_30, *july()])

    explained = explain_days(as_run_stored(charged)[::-1], TERMS, TARIFFS)  # any order

    assert explained == engine_lines(charged)
    [fixed] = [line for line in explained[JULY_2025] if line.code == "fixed"]
    assert "1.5 kW billing demand" in fixed.label


def test_a_day_given_twice_is_refused() -> None:
    stored = as_run_stored(charged_days(TERMS, july()))

    with pytest.raises(ValueError, match="2025-07-01"):
        explain_days([*stored, stored[0]], TERMS, TARIFFS)


def test_days_posted_one_at_a_time_are_rebuilt_as_the_posting_explained_them() -> None:
    uow = FakeUnitOfWork()
    migrated = ist(2025, 7, 10, 11)
    open_connection(
        NewConnection("ACC-1", "Test", "9876500001", "DS-II", 2000, "SUB-1", "SBPDCL"),
        uow,
        FixedClock(migrated - timedelta(days=30)),
    )
    install_smart_meter(InstallSmartMeter("ACC-1", "SM-1"), uow, FixedClock(migrated), POLICIES)
    for bill_day, used_wh, max_demand_w in july(first=10):
        night = ist(bill_day.year, bill_day.month, bill_day.day) + timedelta(days=1, minutes=30)
        post_daily_charge(
            PostDailyCharge("ACC-1", bill_day, used_wh, max_demand_w),
            uow,
            FixedClock(night),
            TARIFFS,
            POLICIES,
        )
    posted = [stored_day(row) for row in uow.charges.rows.values()]

    explained = explain_days(
        [dataclasses.replace(day, lines=()) for day in posted],
        AccountTerms.of(uow.connections.get("ACC-1")),
        TARIFFS,
    )

    assert len(posted) == 22
    assert explained == {day.bill_day: day.lines for day in posted}


def test_days_billed_by_the_nightly_run_are_explained_as_a_posting_would_have() -> None:
    terms = dataclasses.replace(TERMS, migrated_at_day=date(2025, 7, 4))
    stored: list[ChargedDay] = []
    mtd_used_wh = mtd_max_demand_w = 0
    for bill_day, used_wh, max_demand_w in july(first=4):
        batch, _ = price_partition(
            DayRun(bill_day),
            run_inputs(terms, used_wh, max_demand_w, mtd_used_wh, mtd_max_demand_w),
            TARIFFS,
            journal_key=f"charge-run:{bill_day}",
            posted_at=ist(2025, 8, 1),
        )
        day = ChargedDay(
            bill_day=bill_day,
            used_wh=int(batch.used_wh[0]),
            month_used_wh=int(batch.month_used_wh[0]),
            max_demand_w=int(batch.max_demand_w[0]),
            energy_paise=int(batch.energy_paise[0]),
            tod_paise=int(batch.tod_paise[0]),
            fixed_paise=int(batch.fixed_paise[0]),
            duty_paise=int(batch.duty_paise[0]),
            subsidy_paise=int(batch.subsidy_paise[0]),
            rebate_paise=int(batch.rebate_paise[0]),
            total_paise=int(batch.total_paise[0]),
            tariff_id=batch.tariff_ids[0],
        )
        stored.append(day)
        mtd_used_wh, mtd_max_demand_w = day.month_used_wh, day.max_demand_w

    explained = explain_days(stored, terms, TARIFFS)

    assert explained == engine_lines(charged_days(terms, july(first=4)))


@st.composite
def months_of_use(draw: st.DrawFn) -> tuple[AccountTerms, list[tuple[date, int, int]]]:
    """A month (with or without free units), maybe migrated into, with random daily use,
    random demand and random days left unbilled."""
    month = draw(st.sampled_from([JULY_2025, SEPTEMBER_2025]))
    migrated = draw(st.none() | st.integers(1, days_in_month(month)).map(month.replace))
    start = month if migrated is None else migrated
    usage = [
        (start + timedelta(days=n), draw(st.integers(0, 40_000)), draw(st.integers(0, 6_000)))
        for n in range(days_in_month(month) - (start - month).days)
    ]
    kept = [day for day in usage if draw(st.integers(0, 9))]  # about one day in ten unbilled
    load_w = draw(st.sampled_from([1_000, 2_000, 5_000]))
    terms = AccountTerms("NBPDCL", "DS-II", load_w, migrated)
    return terms, kept


@settings(max_examples=60, deadline=None)
@given(months_of_use())
def test_every_rebuilt_day_is_the_engines_explanation_and_adds_up(
    month: tuple[AccountTerms, list[tuple[date, int, int]]],
) -> None:
    terms, usage = month
    charged = charged_days(terms, usage)

    explained = explain_days(as_run_stored(charged), terms, TARIFFS)

    assert explained == engine_lines(charged)
    for day, _ in charged:
        assert sum(line.amount_paise for line in explained[day.bill_day]) == day.total_paise


def run_inputs(
    terms: AccountTerms, used_wh: int, max_demand_w: int, mtd_used_wh: int, mtd_max_demand_w: int
) -> BillingInputs:
    """One account's day as the billing run reads it."""
    assert terms.migrated_at_day is not None

    def column(value: int) -> np.ndarray[tuple[int], np.dtype[np.int64]]:
        return np.array([value], dtype=np.int64)

    return BillingInputs(
        account_ids=["ACC-1"],
        categories=[terms.category],
        discoms=[terms.discom],
        first_day_ordinals=column(terms.migrated_at_day.toordinal()),
        sanctioned_load_w=column(terms.sanctioned_load_w),
        used_wh=column(used_wh),
        max_demand_w=column(max_demand_w),
        mtd_used_wh=column(mtd_used_wh),
        mtd_max_demand_w=column(mtd_max_demand_w),
        arrears_plans={},
    )


def stored_day(row: DailyCharge) -> ChargedDay:
    """A daily_charges row as the statement reads it back."""
    return ChargedDay(
        bill_day=row.bill_day,
        used_wh=row.used_wh,
        month_used_wh=row.month_used_wh,
        max_demand_w=row.max_demand_w,
        energy_paise=row.energy_paise,
        tod_paise=row.tod_paise,
        fixed_paise=row.fixed_paise,
        duty_paise=row.duty_paise,
        subsidy_paise=row.subsidy_paise,
        rebate_paise=row.rebate_paise,
        total_paise=row.total_paise,
        tariff_id=row.tariff_id,
        lines=tuple(charge_line(line) for line in row.explanation),
    )


def charge_line(stored: Mapping[str, object]) -> ChargeLine:
    quantity, rate = stored["quantity_wh"], stored["rate_paise_per_kwh"]
    return ChargeLine(
        code=str(stored["code"]),
        label=str(stored["label"]),
        amount_paise=int(str(stored["amount_paise"])),
        quantity_wh=None if quantity is None else int(str(quantity)),
        rate_paise_per_kwh=None if rate is None else int(str(rate)),
        label_hi=str(stored["label_hi"]),
    )
