"""Properties of the tariff engine: a month's days add up exactly to its bill, no day is
ever negative, and every bill's lines add up to its total."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date
from itertools import accumulate, pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

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
    TodBand,
    Usage,
    daily_charge,
    monthly_bill,
)
from prepaidgrid.domain.tariffs.model import BASIS_POINTS
from prepaidgrid.domain.units import days_in_month

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


@st.composite
def slab_tables(draw: st.DrawFn) -> tuple[Slab, ...]:
    ceilings = sorted(draw(st.sets(st.integers(1, 300_000), max_size=2)))
    slabs = []
    for upto_wh in [*ceilings, None]:
        rate = draw(st.integers(0, 1_500))
        slabs.append(Slab(upto_wh, rate, draw(st.integers(0, rate))))
    return tuple(slabs)


@st.composite
def rebates(draw: st.DrawFn, slabs: tuple[Slab, ...]) -> Rebate | None:
    """Any rebate the tariff accepts: never more than a slab's net rate."""
    kind = draw(st.sampled_from(["none", "per_unit", "gross", "net"]))
    if kind == "per_unit":
        return Rebate(paise_per_kwh=draw(st.integers(0, min(s.net_paise_per_kwh for s in slabs))))
    if kind == "gross":
        ceiling = min(
            (
                s.net_paise_per_kwh * BASIS_POINTS // s.paise_per_kwh
                for s in slabs
                if s.paise_per_kwh
            ),
            default=BASIS_POINTS,
        )
        return Rebate(basis_points=draw(st.integers(0, ceiling)), base=RebateBase.GROSS)
    if kind == "net":
        return Rebate(basis_points=draw(st.integers(0, BASIS_POINTS)), base=RebateBase.NET)
    return None


@st.composite
def tariffs(draw: st.DrawFn) -> CategoryTariff:
    slabs = draw(slab_tables())
    fixed = draw(
        st.none()
        | st.builds(
            FixedCharge,
            st.integers(0, 20_000),
            st.sampled_from(FixedBasis),
            st.integers(0, 100),
        )
    )
    duty = draw(st.none() | st.builds(Duty, st.integers(0, 2_000), st.sampled_from(DutyBase)))
    free = draw(
        st.none()
        | st.builds(
            FreeUnits, st.integers(0, 200_000), st.dates(date(2025, 1, 1), date(2025, 12, 31))
        )
    )
    return CategoryTariff("X", "random", slabs, draw(rebates(slabs)), fixed, duty, free_units=free)


@st.composite
def months(draw: st.DrawFn) -> list[Usage]:
    """A month (or a shorter period) of cumulative usages, from before day 1 to the end."""
    month = date(2025, draw(st.integers(1, 12)), 1)
    period_days = draw(st.integers(1, days_in_month(month)))
    daily_wh = draw(st.lists(st.integers(0, 15_000), min_size=period_days, max_size=period_days))
    daily_md = draw(st.lists(st.integers(0, 8_000), min_size=period_days, max_size=period_days))
    sanctioned_load_w = draw(st.integers(0, 10_000))
    used = [0, *accumulate(daily_wh)]
    demand = [0, *accumulate(daily_md, max)]
    return [
        Usage(used[day], day, period_days, month, sanctioned_load_w, demand[day])
        for day in range(period_days + 1)
    ]


def lines_by_code(bills: list[Bill]) -> Counter[str]:
    totals: Counter[str] = Counter()
    for bill in bills:
        for line in bill.lines:
            totals[line.code] += line.amount_paise
    return +totals  # drop the codes whose amounts cancel to zero


def assert_days_add_up_to_the_month(days: list[Bill], month: Bill) -> None:
    for name in COMPONENTS:
        assert sum(getattr(day, name) for day in days) == getattr(month, name), name
    for bill in [*days, month]:
        assert sum(line.amount_paise for line in bill.lines) == bill.total_paise
    assert lines_by_code(days) == lines_by_code([month])


@settings(max_examples=150, deadline=None)
@given(tariff=tariffs(), usages=months())
def test_a_months_daily_charges_add_up_exactly_to_its_bill(
    tariff: CategoryTariff, usages: list[Usage]
) -> None:
    days = [daily_charge(tariff, before, after) for before, after in pairwise(usages)]
    month = monthly_bill(tariff, usages[-1])

    assert_days_add_up_to_the_month(days, month)
    assert all(day.total_paise >= 0 for day in days)
    assert all(day.energy_paise >= 0 for day in days)


@settings(max_examples=60, deadline=None)
@given(
    tariff=tariffs(),
    usages=months(),
    percents=st.tuples(st.integers(0, 200), st.integers(0, 200)),
    peak_per_mille=st.integers(0, 600),
)
def test_time_of_day_charges_also_add_up_exactly(
    tariff: CategoryTariff, usages: list[Usage], percents: tuple[int, int], peak_per_mille: int
) -> None:
    bands = (TodBand("peak", percents[0], 17, 23), TodBand("night", percents[1], 23, 5))
    tariff = CategoryTariff(tariff.code, tariff.name, tariff.slabs, tod_bands=bands)
    with_bands = [
        replace(
            usage,
            band_wh={"peak": usage.used_wh * peak_per_mille // 1000, "night": usage.used_wh // 3},
        )
        for usage in usages
    ]

    days = [daily_charge(tariff, before, after) for before, after in pairwise(with_bands)]
    month = monthly_bill(tariff, with_bands[-1])

    assert_days_add_up_to_the_month(days, month)
