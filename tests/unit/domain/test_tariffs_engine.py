"""The tariff engine: slabs on month-to-date units, free units, rebate, fixed, duty, ToD
(worked examples 1 and 2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from itertools import pairwise

import pytest

from prepaidgrid.domain.errors import InvalidInput, InvalidUsage, UnknownCategory
from prepaidgrid.domain.tariffs import (
    Bill,
    CategoryTariff,
    Duty,
    DutyBase,
    FixedBasis,
    FixedCharge,
    FreeUnits,
    Rebate,
    RebateBase,
    Slab,
    TariffVersion,
    TodBand,
    Usage,
    bill_to_date,
    daily_charge,
    monthly_bill,
)
from prepaidgrid.domain.units import round_half_up

JUNE_2025 = date(2025, 6, 1)  # 30 days, before the free-units scheme
JULY_2025 = date(2025, 7, 1)  # 31 days
AUGUST_2025 = date(2025, 8, 1)  # 31 days, free units from 2025-08-01

DS_II_SLABS = (Slab(100_000, 742, 330), Slab(None, 895, 343))  # net 4.12 / 5.52
DS_II_ENERGY_ONLY = CategoryTariff("DS-II", "Domestic Service II (urban)", DS_II_SLABS)
DS_II_2025_26 = replace(
    DS_II_ENERGY_ONLY,
    rebate=Rebate(paise_per_kwh=25),
    fixed=FixedCharge(8000, FixedBasis.PER_KW),
    duty=Duty(600, DutyBase.ENERGY_GROSS),
    free_units=FreeUnits(125_000, date(2025, 8, 1)),
)
COMPONENTS = (
    "energy_paise",
    "subsidy_paise",
    "rebate_paise",
    "tod_paise",
    "fixed_paise",
    "duty_paise",
    "total_paise",
    "used_wh",
    "free_wh",
    "billed_wh",
)


def month_of_days(
    tariff: CategoryTariff, month: date, daily_wh: list[int], **usage: int
) -> tuple[list[Bill], Bill]:
    """Each day's charge and the monthly bill, for a period of len(daily_wh) days."""
    cumulative = [0, *(sum(daily_wh[: day + 1]) for day in range(len(daily_wh)))]
    usages = [
        Usage(used_wh=wh, days=day, period_days=len(daily_wh), month=month, **usage)
        for day, wh in enumerate(cumulative)
    ]
    days = [daily_charge(tariff, before, after) for before, after in pairwise(usages)]
    return days, monthly_bill(tariff, usages[-1])


def net_energy(bill: Bill) -> int:
    return bill.energy_paise - bill.subsidy_paise


def lines_total(bill: Bill) -> int:
    return sum(line.amount_paise for line in bill.lines)


def test_worked_example_1_days_are_priced_on_month_to_date_slabs() -> None:
    days, month = month_of_days(DS_II_ENERGY_ONLY, JUNE_2025, [5_000] * 30)

    assert [net_energy(day) for day in days[:20]] == [2060] * 20
    assert net_energy(days[20]) == 2760
    assert [net_energy(day) for day in days[21:]] == [2760] * 9
    assert sum(net_energy(day) for day in days) == 68800
    assert net_energy(month) == 68800
    assert month.total_paise == 68800


def test_worked_example_1_day_21_is_explained_by_the_upper_slab() -> None:
    days, _ = month_of_days(DS_II_ENERGY_ONLY, JUNE_2025, [5_000] * 30)

    lines = {line.code: line for line in days[20].lines}

    assert set(lines) == {"energy.slab.2", "subsidy.slab.2"}
    assert (lines["energy.slab.2"].quantity_wh, lines["energy.slab.2"].amount_paise) == (
        5_000,
        4475,
    )
    assert lines["energy.slab.2"].rate_paise_per_kwh == 895
    assert lines["subsidy.slab.2"].amount_paise == -1715
    assert lines_total(days[20]) == days[20].total_paise == 2760


def test_worked_example_2_the_day_that_crosses_a_slab_pays_both_rates() -> None:
    before = Usage(used_wh=98_000, days=20, period_days=30, month=JUNE_2025)
    after = replace(before, used_wh=104_000, days=21)

    day = daily_charge(DS_II_ENERGY_ONLY, before, after)

    assert net_energy(day) == 2 * 412 + 4 * 552 == 3032
    quantities = {line.code: line.quantity_wh for line in day.lines}
    assert quantities == {
        "energy.slab.1": 2_000,
        "energy.slab.2": 4_000,
        "subsidy.slab.1": 2_000,
        "subsidy.slab.2": 4_000,
    }
    assert lines_total(day) == day.total_paise


def test_the_2025_26_example_bill_has_every_component() -> None:
    usage = Usage(
        used_wh=150_000, days=30, period_days=30, month=JULY_2025, sanctioned_load_w=2_000
    )

    bill = monthly_bill(DS_II_2025_26, usage)

    assert (bill.energy_paise, bill.subsidy_paise, bill.rebate_paise) == (118950, 50150, 3750)
    assert bill.fixed_paise == round_half_up(8000 * 3 // 2 * 30, 31) == 11613
    assert (bill.duty_paise, bill.tod_paise) == (7137, 0)
    assert bill.total_paise == 118950 - 50150 - 3750 + 11613 + 7137 == 83800
    assert lines_total(bill) == bill.total_paise


def test_at_the_free_allowance_nothing_is_charged() -> None:
    usage = Usage(used_wh=125_000, days=30, period_days=30, month=AUGUST_2025)

    bill = monthly_bill(DS_II_2025_26, usage)

    assert bill.total_paise == 0
    assert (bill.energy_paise, bill.fixed_paise, bill.duty_paise, bill.rebate_paise) == (0,) * 4
    assert (bill.free_wh, bill.billed_wh) == (125_000, 0)
    assert [line.code for line in bill.lines] == ["free_units"]


def test_above_the_free_allowance_only_the_excess_is_billed_with_duty_and_fixed() -> None:
    usage = Usage(used_wh=150_000, days=30, period_days=30, month=AUGUST_2025)

    bill = monthly_bill(DS_II_2025_26, usage)

    assert (bill.free_wh, bill.billed_wh) == (125_000, 25_000)
    energy_lines = [line for line in bill.lines if line.code.startswith("energy.")]
    assert [(line.code, line.quantity_wh) for line in energy_lines] == [("energy.slab.2", 25_000)]
    assert (bill.energy_paise, bill.subsidy_paise, bill.rebate_paise) == (22375, 8575, 625)
    assert bill.duty_paise == 1343  # 6% of 223.75 = 13.425 rupees
    assert bill.fixed_paise == round_half_up(6000 * 30, 31) == 5806  # 75% of 1 kW
    assert bill.total_paise == 22375 - 8575 - 625 + 5806 + 1343
    assert lines_total(bill) == bill.total_paise


def test_free_units_are_pro_rated_on_thirty_days() -> None:
    usage = Usage(used_wh=125_000, days=31, period_days=31, month=AUGUST_2025)

    bill = monthly_bill(DS_II_2025_26, usage)

    assert bill.free_wh == 125_000  # allowance 129.167 units for 31 days
    assert bill.total_paise == 0
    assert FreeUnits(125_000, AUGUST_2025).allowance_wh(15) == 62_500


def test_free_units_do_not_apply_before_the_scheme_starts() -> None:
    usage = Usage(used_wh=100_000, days=31, period_days=31, month=JULY_2025)

    bill = monthly_bill(DS_II_2025_26, usage)

    assert (bill.free_wh, bill.billed_wh) == (0, 100_000)
    assert bill.energy_paise == 74200


def test_the_day_that_exceeds_the_allowance_catches_up_the_fixed_charge() -> None:
    days, month = month_of_days(DS_II_2025_26, AUGUST_2025, [5_000] * 30)

    assert [day.total_paise for day in days[:25]] == [0] * 25
    assert days[25].fixed_paise == round_half_up(6000 * 26, 31)
    assert [day.fixed_paise for day in days[26:]] == [
        round_half_up(6000 * (n + 1), 31) - round_half_up(6000 * n, 31) for n in range(26, 30)
    ]
    assert sum(day.total_paise for day in days) == month.total_paise


def test_billing_demand_is_the_recorded_demand_or_75_percent_of_the_sanctioned_load() -> None:
    tariff = replace(DS_II_ENERGY_ONLY, fixed=FixedCharge(8000, FixedBasis.PER_KW))
    usage = Usage(used_wh=0, days=31, period_days=31, month=JULY_2025, sanctioned_load_w=2_000)

    floor = monthly_bill(tariff, replace(usage, max_demand_w=1_000))
    recorded = monthly_bill(tariff, replace(usage, max_demand_w=2_500))

    assert floor.fixed_paise == 12000  # 1.5 kW
    assert recorded.fixed_paise == 20000  # 2.5 kW


def test_a_fixed_charge_per_connection_ignores_the_load() -> None:
    tariff = replace(DS_II_ENERGY_ONLY, fixed=FixedCharge(1000, FixedBasis.PER_CONNECTION))
    usage = Usage(used_wh=0, days=31, period_days=31, month=JULY_2025, sanctioned_load_w=9_000)

    assert monthly_bill(tariff, usage).fixed_paise == 1000
    assert bill_to_date(tariff, replace(usage, days=10)).fixed_paise == round_half_up(10_000, 31)


def test_a_partial_period_pays_the_fixed_charge_for_its_days_only() -> None:
    tariff = replace(DS_II_ENERGY_ONLY, fixed=FixedCharge(1000, FixedBasis.PER_CONNECTION))
    usage = Usage(used_wh=0, days=10, period_days=10, month=JULY_2025)

    assert monthly_bill(tariff, usage).fixed_paise == round_half_up(1000 * 10, 31) == 323


@pytest.mark.parametrize(
    ("base", "duty_paise"),
    [
        (DutyBase.ENERGY_GROSS, 10_000),  # 10% of 1000.00
        (DutyBase.ENERGY_NET, 6_000),  # 10% of 600.00
        (DutyBase.ENERGY_NET_AFTER_REBATE, 5_400),  # 10% of (600.00 - 60.00)
        (DutyBase.ENERGY_GROSS_PLUS_FIXED, 10_310),  # 10% of (1000.00 + 31.00)
    ],
)
def test_duty_is_a_percentage_of_its_configured_base(base: DutyBase, duty_paise: int) -> None:
    tariff = CategoryTariff(
        "X",
        "example",
        (Slab(None, 1000, 400),),
        rebate=Rebate(basis_points=1000, base=RebateBase.NET),
        fixed=FixedCharge(3100, FixedBasis.PER_CONNECTION),
        duty=Duty(1000, base),
    )
    usage = Usage(used_wh=100_000, days=31, period_days=31, month=JULY_2025)

    bill = monthly_bill(tariff, usage)

    assert bill.duty_paise == duty_paise
    assert lines_total(bill) == bill.total_paise


@pytest.mark.parametrize(
    ("rebate", "rebate_paise"),
    [
        (Rebate(paise_per_kwh=25), 2_500),
        (Rebate(basis_points=300, base=RebateBase.GROSS), 3_000),
        (Rebate(basis_points=300, base=RebateBase.NET), 1_800),
    ],
)
def test_the_prepaid_rebate_is_per_unit_or_a_percentage_of_its_base(
    rebate: Rebate, rebate_paise: int
) -> None:
    tariff = CategoryTariff("X", "example", (Slab(None, 1000, 400),), rebate=rebate)
    usage = Usage(used_wh=100_000, days=31, period_days=31, month=JULY_2025)

    bill = monthly_bill(tariff, usage)

    assert bill.rebate_paise == rebate_paise
    assert bill.total_paise == 60_000 - rebate_paise


def test_the_rebate_applies_to_billed_units_only() -> None:
    usage = Usage(used_wh=130_000, days=30, period_days=30, month=AUGUST_2025)

    bill = monthly_bill(DS_II_2025_26, usage)

    assert bill.rebate_paise == 5 * 25


def test_time_of_day_bands_surcharge_and_discount_their_share_of_the_energy_charge() -> None:
    tariff = CategoryTariff(
        "X",
        "example",
        (Slab(None, 1000),),
        tod_bands=(TodBand("peak", 120, 17, 23), TodBand("solar", 80, 9, 17)),
    )
    usage = Usage(
        used_wh=100_000,
        days=31,
        period_days=31,
        month=JULY_2025,
        band_wh={"peak": 30_000, "solar": 20_000},
    )

    bill = monthly_bill(tariff, usage)

    assert bill.tod_paise == 6_000 - 4_000
    assert {line.code: line.amount_paise for line in bill.lines if line.code.startswith("tod")} == {
        "tod.peak": 6_000,
        "tod.solar": -4_000,
    }
    assert bill.total_paise == 100_000 + 2_000 == lines_total(bill)
    assert monthly_bill(tariff, replace(usage, band_wh={})).tod_paise == 0


def test_a_band_that_wraps_past_midnight_covers_the_small_hours() -> None:
    night = TodBand("night", 90, 22, 6)

    assert [night.covers(hour) for hour in (21, 22, 23, 0, 5, 6)] == [
        False,
        True,
        True,
        True,
        True,
        False,
    ]


def test_usage_in_an_unknown_band_is_refused() -> None:
    tariff = CategoryTariff(
        "X", "example", (Slab(None, 1000),), tod_bands=(TodBand("peak", 120, 17, 23),)
    )
    usage = Usage(used_wh=10, days=1, period_days=31, month=JULY_2025, band_wh={"night": 5})

    with pytest.raises(InvalidUsage, match="unknown time-of-day band 'night'"):
        bill_to_date(tariff, usage)


@pytest.mark.parametrize(
    ("usage", "message"),
    [
        (
            Usage(used_wh=-1, days=1, period_days=31, month=JULY_2025),
            "used_wh must not be negative",
        ),
        (Usage(used_wh=0, days=-1, period_days=31, month=JULY_2025), "days must be 0-31"),
        (Usage(used_wh=0, days=31, period_days=30, month=JULY_2025), "days must be 0-30"),
        (Usage(used_wh=0, days=1, period_days=32, month=JULY_2025), "period_days must be 1-31"),
        (Usage(used_wh=0, days=1, period_days=31, month=date(2025, 7, 2)), "first day"),
        (
            Usage(used_wh=5, days=1, period_days=31, month=JULY_2025, band_wh={"peak": 6}),
            "more than the 5 Wh used",
        ),
    ],
)
def test_impossible_usage_is_refused_with_a_clear_message(usage: Usage, message: str) -> None:
    with pytest.raises(InvalidUsage, match=message):
        bill_to_date(DS_II_2025_26, usage)


def test_a_day_whose_usage_goes_backwards_is_refused() -> None:
    before = Usage(used_wh=10_000, days=3, period_days=31, month=JULY_2025)

    with pytest.raises(InvalidUsage, match="used_wh went backwards"):
        daily_charge(DS_II_2025_26, before, replace(before, used_wh=9_000, days=4))


def test_a_day_spanning_two_months_is_refused() -> None:
    before = Usage(used_wh=10_000, days=31, period_days=31, month=JULY_2025)
    after = Usage(used_wh=1_000, days=1, period_days=31, month=AUGUST_2025)

    with pytest.raises(InvalidUsage, match="same period"):
        daily_charge(DS_II_2025_26, before, after)


@pytest.mark.parametrize(
    ("slabs", "rebate", "message"),
    [
        ((), None, "at least one slab"),
        ((Slab(100_000, 500), Slab(50_000, 600), Slab(None, 700)), None, "must ascend"),
        ((Slab(None, 500), Slab(None, 600)), None, "only the last slab"),
        ((Slab(None, 500, 600),), None, "0 <= subsidy <= rate"),
        ((Slab(None, 500, 480),), Rebate(paise_per_kwh=25), "exceeds slab 1's net rate"),
        ((Slab(None, 500, 480),), Rebate(300, 0), "exceeds"),
        ((Slab(None, 500, 480),), Rebate(basis_points=500, base=RebateBase.GROSS), "exceeds"),
    ],
)
def test_a_tariff_that_could_charge_less_than_nothing_is_refused(
    slabs: tuple[Slab, ...], rebate: Rebate | None, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        CategoryTariff("X", "example", slabs, rebate=rebate)


def test_an_unknown_category_names_the_known_ones() -> None:
    version = TariffVersion(
        "bihar-2025-26",
        ("SBPDCL",),
        date(2025, 4, 1),
        None,
        {"DS-II": DS_II_2025_26, "KJ": replace(DS_II_2025_26, code="KJ")},
    )

    with pytest.raises(UnknownCategory, match="no category 'NDS-I'; it has: DS-II, KJ"):
        version.category("NDS-I")
