"""The billing kernel prices whole arrays of accounts exactly as the scalar tariff engine
prices each one: month to date, day by day, and a month's days add up to its bill."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from prepaidgrid.adapters.tariff_files import load_tariff
from prepaidgrid.domain.billing import Charges, price_days, price_to_date
from prepaidgrid.domain.errors import InvalidInput, InvalidUsage
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
    bill_to_date,
    daily_charge,
    monthly_bill,
)
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
JUNE_2025 = date(2025, 6, 1)
SEPTEMBER_2025 = date(2025, 9, 1)  # free units apply
DS_II = load_tariff("bihar-2025-26").category("DS-II")
BANDS = (TodBand("peak", 120, 17, 23), TodBand("solar", 80, 9, 17))


def ints(*values: int) -> np.ndarray[tuple[int], np.dtype[np.int64]]:
    return np.array(values, dtype=np.int64)


def sizes(small: int, large: int) -> st.SearchStrategy[int]:
    """Mostly everyday figures, sometimes ones far beyond the kernel's int64 bounds."""
    return st.integers(0, small) | st.integers(0, large)


@st.composite
def tariffs(draw: st.DrawFn) -> CategoryTariff:
    ceilings = sorted(draw(st.sets(sizes(300_000, 10**12).filter(bool), max_size=3)))
    slabs = []
    for upto_wh in [*ceilings, None]:
        rate = draw(sizes(1_500, 100_000))
        slabs.append(Slab(upto_wh, rate, draw(st.integers(0, rate))))
    kind = draw(st.sampled_from(["none", "per_unit", "gross", "net"]))
    rebate = None
    if kind == "per_unit":
        rebate = Rebate(paise_per_kwh=draw(st.integers(0, 60)))
    elif kind != "none":
        base = RebateBase.GROSS if kind == "gross" else RebateBase.NET
        rebate = Rebate(basis_points=draw(st.integers(0, 10_000)), base=base)
    fixed = draw(
        st.none()
        | st.builds(
            FixedCharge, sizes(20_000, 10**9), st.sampled_from(FixedBasis), st.integers(0, 100)
        )
    )
    duty = draw(st.none() | st.builds(Duty, st.integers(0, 2_000), st.sampled_from(DutyBase)))
    free = draw(
        st.none()
        | st.builds(
            FreeUnits, sizes(200_000, 10**12), st.dates(date(2024, 1, 1), date(2026, 12, 31))
        )
    )
    tod = draw(st.sampled_from([(), BANDS[:1], BANDS, (TodBand("flat", 100, 0, 24),)]))
    try:
        return CategoryTariff("X", "random", tuple(slabs), rebate, fixed, duty, free, tod)
    except InvalidInput:  # a rebate deeper than some slab's net rate
        assume(False)
        raise


@st.composite
def months(draw: st.DrawFn) -> date:
    return date(draw(st.integers(2024, 2026)), draw(st.integers(1, 12)), 1)


@st.composite
def usages(draw: st.DrawFn, month: date, band_names: tuple[str, ...]) -> list[Usage]:
    """Rows of month-to-date usage; with band_names, every row splits some Wh over them."""
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        period_days = draw(st.integers(1, days_in_month(month)))
        used_wh = draw(sizes(600_000, 10**13))
        remaining, band_wh = used_wh, {}
        for name in band_names:
            band_wh[name] = remaining * draw(st.integers(0, 1_000)) // 1_000
            remaining -= band_wh[name]
        rows.append(
            Usage(
                used_wh,
                draw(st.integers(0, period_days)),
                period_days,
                month,
                draw(sizes(20_000, 10**12)),
                draw(sizes(20_000, 10**12)),
                band_wh,
            )
        )
    return rows


def arrays(usages: list[Usage], band_names: tuple[str, ...]) -> dict[str, object]:
    """The keyword arrays of price_to_date for these rows."""
    return {
        "used_wh": ints(*(usage.used_wh for usage in usages)),
        "days": ints(*(usage.days for usage in usages)),
        "period_days": ints(*(usage.period_days for usage in usages)),
        "sanctioned_load_w": ints(*(usage.sanctioned_load_w for usage in usages)),
        "max_demand_w": ints(*(usage.max_demand_w for usage in usages)),
        "band_wh": {name: ints(*(usage.band_wh[name] for usage in usages)) for name in band_names}
        or None,
    }


def assert_rows_equal(charges: Charges, bills: list[Bill]) -> None:
    assert len(charges) == len(bills)
    for name in COMPONENTS:
        column = getattr(charges, name)
        assert column.dtype == np.int64, name
        assert column.tolist() == [getattr(bill, name) for bill in bills], name


def after_the_day(before: Usage, today_wh: int, today_md_w: int, bands: Mapping[str, int]) -> Usage:
    return Usage(
        before.used_wh + today_wh,
        before.days + 1,
        before.period_days,
        before.month,
        before.sanctioned_load_w,
        max(before.max_demand_w, today_md_w),
        {name: before.band_wh.get(name, 0) + wh for name, wh in bands.items()},
    )


@settings(max_examples=150, deadline=None)
@given(data=st.data(), tariff=tariffs(), month=months())
def test_month_to_date_prices_equal_the_scalar_engine_row_by_row(
    data: st.DataObject, tariff: CategoryTariff, month: date
) -> None:
    band_names = tuple(band.name for band in tariff.tod_bands) if data.draw(st.booleans()) else ()
    rows = data.draw(usages(month, band_names))

    charges = price_to_date(tariff, month, **arrays(rows, band_names))  # type: ignore[arg-type]

    assert_rows_equal(charges, [bill_to_date(tariff, usage) for usage in rows])


@settings(max_examples=100, deadline=None)
@given(data=st.data(), tariff=tariffs(), month=months())
def test_daily_prices_equal_the_scalar_daily_charge_row_by_row(
    data: st.DataObject, tariff: CategoryTariff, month: date
) -> None:
    band_names = tuple(band.name for band in tariff.tod_bands) if data.draw(st.booleans()) else ()
    befores = [
        usage for usage in data.draw(usages(month, band_names)) if usage.days < usage.period_days
    ]
    todays = [data.draw(usages(month, band_names).filter(len)).pop() for _ in befores]
    afters = [
        after_the_day(before, today.used_wh, today.max_demand_w, today.band_wh)
        for before, today in zip(befores, todays, strict=True)
    ]
    before_arrays, today_arrays = arrays(befores, band_names), arrays(todays, band_names)

    charges = price_days(
        tariff,
        month,
        period_days=ints(*(usage.period_days for usage in befores)),
        sanctioned_load_w=ints(*(usage.sanctioned_load_w for usage in befores)),
        days_before=ints(*(usage.days for usage in befores)),
        used_before_wh=before_arrays["used_wh"],  # type: ignore[arg-type]
        used_today_wh=today_arrays["used_wh"],  # type: ignore[arg-type]
        md_before_w=before_arrays["max_demand_w"],  # type: ignore[arg-type]
        md_today_w=today_arrays["max_demand_w"],  # type: ignore[arg-type]
        band_before_wh=before_arrays["band_wh"],  # type: ignore[arg-type]
        band_today_wh=today_arrays["band_wh"],  # type: ignore[arg-type]
    )

    expected = [daily_charge(tariff, b, a) for b, a in zip(befores, afters, strict=True)]
    assert_rows_equal(charges, expected)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    tariff=tariffs(),
    month=months(),
    accounts=st.integers(1, 4),
    with_bands=st.booleans(),
)
def test_a_months_daily_postings_equal_its_monthly_bill_exactly(
    data: st.DataObject, tariff: CategoryTariff, month: date, accounts: int, with_bands: bool
) -> None:
    period_days = data.draw(st.integers(1, days_in_month(month)))
    shape = (period_days, accounts)
    day_wh = np.array(data.draw(st.lists(sizes(15_000, 10**11), min_size=shape[0] * shape[1])))
    day_wh = day_wh[: shape[0] * shape[1]].reshape(shape).astype(np.int64)
    day_md_w = (day_wh * 7) % 9_000  # any demand will do; it only ever rises
    peak_wh = day_wh // 3 if with_bands and tariff.tod_bands else None
    sanctioned_load_w = ints(*data.draw(st.lists(sizes(10_000, 10**9), min_size=accounts)))
    sanctioned_load_w = sanctioned_load_w[:accounts]
    used_wh = np.zeros(accounts, dtype=np.int64)
    md_w = np.zeros(accounts, dtype=np.int64)
    band_wh = np.zeros(accounts, dtype=np.int64)
    posted = {name: np.zeros(accounts, dtype=object) for name in COMPONENTS}
    name = tariff.tod_bands[0].name if tariff.tod_bands else ""

    for day in range(period_days):
        charges = price_days(
            tariff,
            month,
            period_days=np.full(accounts, period_days),
            sanctioned_load_w=sanctioned_load_w,
            days_before=np.full(accounts, day),
            used_before_wh=used_wh,
            used_today_wh=day_wh[day],
            md_before_w=md_w,
            md_today_w=day_md_w[day],
            band_before_wh=None if peak_wh is None else {name: band_wh},
            band_today_wh=None if peak_wh is None else {name: peak_wh[day]},
        )
        for component in COMPONENTS:
            posted[component] += getattr(charges, component).astype(object)
        used_wh, md_w = used_wh + day_wh[day], np.maximum(md_w, day_md_w[day])
        band_wh = band_wh if peak_wh is None else band_wh + peak_wh[day]

    for account in range(accounts):
        month_usage = Usage(
            int(used_wh[account]),
            period_days,
            period_days,
            month,
            int(sanctioned_load_w[account]),
            int(md_w[account]),
            {} if peak_wh is None else {name: int(band_wh[account])},
        )
        bill = monthly_bill(tariff, month_usage)
        for component in COMPONENTS:
            assert posted[component][account] == getattr(bill, component), component


@settings(max_examples=100, deadline=None)
@given(data=st.data(), month=st.sampled_from([date(2025, m, 1) for m in range(4, 13)]))
def test_the_packaged_bihar_ds_ii_tariff_prices_as_the_scalar_engine(
    data: st.DataObject, month: date
) -> None:
    rows = data.draw(usages(month, ()))

    charges = price_to_date(DS_II, month, **arrays(rows, ()))  # type: ignore[arg-type]

    assert_rows_equal(charges, [bill_to_date(DS_II, usage) for usage in rows])


def test_the_packaged_ds_ii_day_reproduces_worked_example_2() -> None:
    day = price_days(
        DS_II,
        JUNE_2025,
        period_days=ints(30),
        sanctioned_load_w=ints(1_000),
        days_before=ints(20),
        used_before_wh=ints(98_000),
        used_today_wh=ints(6_000),
        md_before_w=ints(0),
        md_today_w=ints(0),
    )

    assert (day.energy_paise - day.subsidy_paise).tolist() == [3032]


def test_125_free_units_cost_nothing_in_a_30_day_september() -> None:
    charges = price_to_date(
        DS_II,
        SEPTEMBER_2025,
        used_wh=ints(125_000, 125_001),
        days=ints(30, 30),
        period_days=ints(30, 30),
        sanctioned_load_w=ints(1_000, 1_000),
        max_demand_w=ints(0, 0),
    )

    assert charges.total_paise[0] == 0
    assert charges.free_wh.tolist() == [125_000, 125_000]
    assert charges.fixed_paise[1] > 0


def test_a_row_beyond_int64_bounds_is_priced_exactly_beside_everyday_rows() -> None:
    used = [10_000, 9 * 10**18, 250_000]
    rows = [Usage(wh, 10, 30, JUNE_2025, 2_000, 3_000) for wh in used]
    tariff = CategoryTariff("X", "tiny rates", (Slab(None, 1, 0),), duty=Duty(777))

    charges = price_to_date(
        tariff,
        JUNE_2025,
        used_wh=ints(*used),
        days=ints(10, 10, 10),
        period_days=ints(30, 30, 30),
        sanctioned_load_w=ints(2_000, 2_000, 2_000),
        max_demand_w=ints(3_000, 3_000, 3_000),
    )

    assert_rows_equal(charges, [bill_to_date(tariff, usage) for usage in rows])


def test_a_tariff_with_constants_beyond_int64_is_priced_exactly() -> None:
    tariff = CategoryTariff("X", "huge", (Slab(None, 2**70, 2**69),), fixed=FixedCharge(2**65))
    usage = Usage(0, 3, 30, JUNE_2025, 0, 0)

    charges = price_to_date(
        tariff,
        JUNE_2025,
        used_wh=ints(0),
        days=ints(3),
        period_days=ints(30),
        sanctioned_load_w=ints(0),
        max_demand_w=ints(0),
    )

    assert_rows_equal(charges, [bill_to_date(tariff, usage)])


def test_charges_beyond_int64_paise_are_refused() -> None:
    tariff = CategoryTariff("X", "huge", (Slab(None, 2**70),))

    with pytest.raises(InvalidUsage, match=r"row 0: charges exceed"):
        price_to_date(
            tariff,
            JUNE_2025,
            used_wh=ints(1_000),
            days=ints(1),
            period_days=ints(30),
            sanctioned_load_w=ints(0),
            max_demand_w=ints(0),
        )


def test_no_accounts_price_to_no_rows() -> None:
    empty = ints()

    charges = price_to_date(
        DS_II,
        JUNE_2025,
        used_wh=empty,
        days=[],
        period_days=empty,
        sanctioned_load_w=empty,
        max_demand_w=empty,
        band_wh={},
    )
    day = price_days(
        DS_II,
        JUNE_2025,
        period_days=empty,
        sanctioned_load_w=empty,
        days_before=empty,
        used_before_wh=empty,
        used_today_wh=empty,
        md_before_w=empty,
        md_today_w=empty,
    )

    assert len(charges) == len(day) == 0
    assert charges.total_paise.dtype == day.total_paise.dtype == np.int64


def test_charges_subtract_component_by_component() -> None:
    month = price_to_date(
        DS_II,
        JUNE_2025,
        used_wh=ints(150_000),
        days=ints(30),
        period_days=ints(30),
        sanctioned_load_w=ints(1_000),
        max_demand_w=ints(0),
    )

    nothing = month - month

    assert all(getattr(nothing, name).tolist() == [0] for name in COMPONENTS)


GOOD = {
    "used_wh": ints(1_000, 2_000, 3_000),
    "days": ints(1, 2, 3),
    "period_days": ints(30, 30, 30),
    "sanctioned_load_w": ints(1_000, 1_000, 1_000),
    "max_demand_w": ints(0, 0, 0),
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"used_wh": ints(1_000, -1, 3_000)}, r"row 1: used_wh must not be negative, got -1"),
        ({"max_demand_w": ints(0, 0, -5)}, r"row 2: max_demand_w must not be negative"),
        ({"sanctioned_load_w": ints(-1, 0, 0)}, r"row 0: sanctioned_load_w must not be negative"),
        ({"days": ints(1, 31, 3)}, r"row 1: days must be 0-period_days, got 31"),
        ({"days": ints(-1, 2, 3)}, r"row 0: days must be 0-period_days"),
        ({"period_days": ints(30, 0, 30)}, r"row 1: period_days must be 1-30 for 2025-06, got 0"),
        ({"period_days": ints(30, 30, 31)}, r"row 2: period_days must be 1-30 for 2025-06"),
        ({"band_wh": {"peak": ints(0, 2_001, 0)}}, r"row 1: time-of-day bands hold more Wh"),
        ({"band_wh": {"peak": ints(0, -1, 0)}}, r"row 1: time-of-day band 'peak' must not be"),
        ({"band_wh": {"dusk": ints(0, 0, 0)}}, r"unknown time-of-day band 'dusk'"),
        ({"days": ints(1, 2)}, r"equal lengths: used_wh has 3, days has 2"),
        ({"days": np.array([1.0, 2.0, 3.0])}, r"days must hold integers"),
    ],
)
def test_invalid_rows_are_refused_naming_the_reason_and_the_row(
    change: dict[str, object], message: str
) -> None:
    tariff = CategoryTariff("X", "with bands", DS_II.slabs, tod_bands=BANDS)

    with pytest.raises(InvalidUsage, match=message):
        price_to_date(tariff, JUNE_2025, **{**GOOD, **change})  # type: ignore[arg-type]


def test_a_month_must_be_given_by_its_first_day() -> None:
    with pytest.raises(InvalidUsage, match=r"first day of a month, got 2025-06-02"):
        price_to_date(DS_II, date(2025, 6, 2), **GOOD)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"days_before": ints(0, 30)}, r"row 1: days_before must be below period_days, got 30"),
        ({"used_today_wh": ints(5, -5)}, r"row 1: used_today_wh must not be negative, got -5"),
        ({"md_today_w": ints(-1, 0)}, r"row 0: md_today_w must not be negative"),
        (
            {"used_before_wh": ints(2**62, 0), "used_today_wh": ints(2**62, 0)},
            r"row 0: used_before_wh \+ used_today_wh exceeds int64",
        ),
        (
            {"band_before_wh": {"peak": ints(0, 11)}},
            r"row 1: time-of-day bands hold more Wh than used_wh before the day",
        ),
        (
            {"band_today_wh": {"peak": ints(0, 26)}},
            r"row 1: time-of-day bands hold more Wh than used_wh after the day",
        ),
    ],
)
def test_invalid_days_are_refused_naming_the_reason_and_the_row(
    change: dict[str, object], message: str
) -> None:
    good = {
        "period_days": ints(30, 30),
        "sanctioned_load_w": ints(1_000, 1_000),
        "days_before": ints(0, 29),
        "used_before_wh": ints(0, 10),
        "used_today_wh": ints(5, 5),
        "md_before_w": ints(0, 0),
        "md_today_w": ints(0, 0),
    }

    with pytest.raises(InvalidUsage, match=message):
        price_days(DS_II, JUNE_2025, **{**good, **change})  # type: ignore[arg-type]
