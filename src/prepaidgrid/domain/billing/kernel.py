"""The billing kernel: the tariff engine's month-to-date price for many accounts at once.

`price_to_date` equals `bill_to_date` row by row, and `price_days` equals `daily_charge`,
for every component, with no Python loop per account: a nightly run prices each account's
day with a few dozen whole-array numpy operations. The scalar engine stays the reference
and still builds the explanation lines when a consumer asks for them.

Exactness. For one tariff and one month, each step of the engine's chain of running sums
(energy, - subsidy, - rebate, + ToD, + fixed, + duty) is a linear form, with rational
coefficients fixed by the tariff and the month, in four integer quantities per account:

    gross    sum over slabs of billed Wh x paise/kWh          (millipaise)
    subsidy  sum over slabs of billed Wh x subsidy paise/kWh  (millipaise)
    billed   Wh billed, outside the free units                (for a per-unit rebate)
    demand   days x max(100 x max demand W, floor % x sanctioned load W)  (per-kW fixed)
             or days                                          (per-connection fixed)

The coefficients are 1/1000 (millipaise), basis points / 10^4, paise per month /
(10^5 x days in the month) and their products. The kernel writes every running sum over
one common denominator D, the least common multiple of the coefficients' denominators,
so each running sum is an integer numerator over D and is rounded half away from zero by
integer floor division, exactly as round_half_up. A time-of-day term is
gross x sum over bands of (percent - 100) x band Wh / (10^5 x used Wh): its denominator
changes per row, so a row with one is priced over D x 10^5 x used Wh.

Overflow bounds. A row is priced in int64 only when its numerators provably stay below
2^60 (so 2 x numerator + D, the rounding's largest term, stays below 2^62): the kernel
bounds each row by |numerator| <= a x used_wh + b x max(max demand W, sanctioned load W)
+ c, with a, b, c computed from the tariff's multipliers, and checks it in float64 (whose
error is far below the 2^3 margin). For every category of the shipped Bihar tariffs
D <= 3_100_000, a <= 4.1 x 10^6 and b <= 2.5 x 10^7: with used_wh <= 10^8 Wh a month and
demand <= 10^7 W a numerator stays below 10^15, and int64 holds rows up to about
2.8 x 10^11 Wh. In general, with rates <= 10^5 paise/kWh, duty and rebate <= 100%, fixed
<= 10^5 paise per kW a month, used_wh <= 10^8 and demand <= 10^7 W, the int64 path holds
whenever D <= 10^7; a percentage rebate whose basis points are not round, combined with a
per-kW fixed charge or with duty on energy net of the rebate, can push D to 10^11-10^13,
and then the larger rows take the fallback.

Fallback. Rows beyond those bounds, rows with a nonzero time-of-day term, and every row of
a tariff whose constants (rates, multipliers, 2 x D) reach 2^60 are priced with numpy
object arrays of Python ints: the same whole-array code, still exact, 20-50x slower
(about 5 s a million rows with time-of-day bands). Results are int64; a row whose charges
would exceed 2^62 paise (4.6 x 10^16 rupees) is refused, which also keeps the difference
of two results (`Charges.__sub__`) exact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from fractions import Fraction
from itertools import accumulate
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from prepaidgrid.domain.errors import InvalidUsage
from prepaidgrid.domain.tariffs.model import (
    BASIS_POINTS,
    CategoryTariff,
    DutyBase,
    FixedBasis,
    RebateBase,
)
from prepaidgrid.domain.units import MILLIPAISE_PER_PAISA, WH_PER_KWH, days_in_month

Int64s: TypeAlias = NDArray[np.int64]
_Ints: TypeAlias = NDArray[Any]  # int64, or object holding Python ints on the exact path
_Form: TypeAlias = dict[str, Fraction]  # a linear form over the quantities below

_GROSS, _SUBSIDY, _BILLED, _DEMAND = "gross", "subsidy", "billed", "demand"
_QUANTITIES = (_GROSS, _SUBSIDY, _BILLED, _DEMAND)
_INT64_MAX = int(np.iinfo(np.int64).max)
_NUMERATOR_LIMIT = 2**60  # int64 path: every |numerator| and 2 x D below this
_RESULT_LIMIT = 2**62  # paise: results, so that a difference of two never overflows
_TOD_SCALE = 100 * MILLIPAISE_PER_PAISA  # percent x millipaise
_MAX_MONTH_DAYS = 31
_PAISE_COLUMNS = 7  # Charges' first seven fields; the Wh ones never exceed used_wh


@dataclass(frozen=True, slots=True, eq=False)
class Charges:
    """Priced rows, one per account: total = energy - subsidy - rebate + tod + fixed + duty."""

    energy_paise: Int64s
    subsidy_paise: Int64s
    rebate_paise: Int64s
    tod_paise: Int64s
    fixed_paise: Int64s
    duty_paise: Int64s
    total_paise: Int64s
    used_wh: Int64s
    free_wh: Int64s
    billed_wh: Int64s

    def __sub__(self, other: Charges) -> Charges:
        """Component by component: a day is the month after it minus the month before."""
        if not isinstance(other, Charges):
            return NotImplemented
        return Charges(
            *(getattr(self, item.name) - getattr(other, item.name) for item in fields(self))
        )

    def __len__(self) -> int:
        return len(self.total_paise)


@dataclass(frozen=True, slots=True)
class _Rows:
    """Month-to-date usage of many accounts, as parallel arrays."""

    used_wh: _Ints
    days: _Ints
    period_days: Int64s  # stays int64: it indexes the free-units table
    sanctioned_load_w: _Ints
    max_demand_w: _Ints
    band_wh: dict[str, _Ints]

    def take(self, rows: NDArray[np.bool_]) -> _Rows:
        return _Rows(
            self.used_wh[rows],
            self.days[rows],
            self.period_days[rows],
            self.sanctioned_load_w[rows],
            self.max_demand_w[rows],
            {band: wh[rows] for band, wh in self.band_wh.items()},
        )

    def as_python_ints(self) -> _Rows:
        return _Rows(
            self.used_wh.astype(object),
            self.days.astype(object),
            self.period_days,
            self.sanctioned_load_w.astype(object),
            self.max_demand_w.astype(object),
            {band: wh.astype(object) for band, wh in self.band_wh.items()},
        )


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one tariff in one month makes of the four quantities."""

    denominator: int  # D: every running sum is an integer numerator over D
    running: tuple[tuple[int, ...], ...]  # per quantity, the five running sums without ToD
    allowance_wh: tuple[int, ...] | None  # free units by period_days; None when none apply
    fits_int64: bool  # every constant is small enough for the int64 path
    bound_per_wh: float  # |numerator| <= bound_per_wh x used_wh + bound_per_w x demand_w
    bound_per_w: float  # + bound_constant
    bound_constant: float


def price_to_date(
    tariff: CategoryTariff,
    month: date,
    *,
    used_wh: ArrayLike,
    days: ArrayLike,
    period_days: ArrayLike,
    sanctioned_load_w: ArrayLike,
    max_demand_w: ArrayLike,
    band_wh: Mapping[str, ArrayLike] | None = None,
) -> Charges:
    """Row i is bill_to_date(tariff, Usage(used_wh[i], days[i], period_days[i], month,
    sanctioned_load_w[i], max_demand_w[i], {band: band_wh[band][i]}))."""
    columns = _columns(
        used_wh=used_wh,
        days=days,
        period_days=period_days,
        sanctioned_load_w=sanctioned_load_w,
        max_demand_w=max_demand_w,
        **_band_columns("band_wh", band_wh),
    )
    rows = _Rows(
        columns["used_wh"],
        columns["days"],
        columns["period_days"],
        columns["sanctioned_load_w"],
        columns["max_demand_w"],
        _bands(columns, "band_wh", band_wh),
    )
    return _price(tariff, month, rows, "")


def price_days(
    tariff: CategoryTariff,
    month: date,
    *,
    period_days: ArrayLike,
    sanctioned_load_w: ArrayLike,
    days_before: ArrayLike,
    used_before_wh: ArrayLike,
    used_today_wh: ArrayLike,
    md_before_w: ArrayLike,
    md_today_w: ArrayLike,
    band_before_wh: Mapping[str, ArrayLike] | None = None,
    band_today_wh: Mapping[str, ArrayLike] | None = None,
) -> Charges:
    """Row i is daily_charge(tariff, before, after): after adds the day's Wh and bands to
    before, one day, and takes the higher of the two maximum demands."""
    columns = _columns(
        period_days=period_days,
        sanctioned_load_w=sanctioned_load_w,
        days_before=days_before,
        used_before_wh=used_before_wh,
        used_today_wh=used_today_wh,
        md_before_w=md_before_w,
        md_today_w=md_today_w,
        **_band_columns("band_before_wh", band_before_wh),
        **_band_columns("band_today_wh", band_today_wh),
    )
    _check_month(month, columns["period_days"])
    _check_not_negative(columns)
    _first_bad(
        columns["days_before"] >= columns["period_days"],
        "days_before must be below period_days",
        columns["days_before"],
    )
    before_bands = _bands(columns, "band_before_wh", band_before_wh)
    today_bands = _bands(columns, "band_today_wh", band_today_wh)
    _check_sum_fits(
        "used_before_wh + used_today_wh", columns["used_before_wh"], columns["used_today_wh"]
    )
    zero = np.zeros(len(columns["period_days"]), dtype=np.int64)
    after_bands: dict[str, Int64s] = {}
    for band in [*before_bands, *(band for band in today_bands if band not in before_bands)]:
        earlier, today = before_bands.get(band, zero), today_bands.get(band, zero)
        _check_sum_fits(f"time-of-day band {band!r} before + today", earlier, today)
        after_bands[band] = earlier + today
    before = _Rows(
        columns["used_before_wh"],
        columns["days_before"],
        columns["period_days"],
        columns["sanctioned_load_w"],
        columns["md_before_w"],
        before_bands,
    )
    after = _Rows(
        columns["used_before_wh"] + columns["used_today_wh"],
        columns["days_before"] + 1,
        columns["period_days"],
        columns["sanctioned_load_w"],
        np.maximum(columns["md_before_w"], columns["md_today_w"]),
        after_bands,
    )
    return _price(tariff, month, after, " after the day") - _price(
        tariff, month, before, " before the day"
    )


def _price(tariff: CategoryTariff, month: date, rows: _Rows, when: str) -> Charges:
    _check_rows(tariff, month, rows, when)
    plan = _plan(tariff, month)
    with_tod = bool(tariff.tod_bands) and bool(rows.band_wh)
    fast = _fits_int64(tariff, plan, rows, with_tod)
    if fast.all():
        return Charges(*_price_rows(tariff, plan, rows, with_tod=False))
    out = [np.empty(len(rows.used_wh), dtype=np.int64) for _ in fields(Charges)]
    if fast.any():
        for column, part in zip(
            out, _price_rows(tariff, plan, rows.take(fast), with_tod=False), strict=True
        ):
            column[fast] = part
    slow = ~fast
    exact = _price_rows(tariff, plan, rows.take(slow).as_python_ints(), with_tod=with_tod)
    for index, (column, part) in enumerate(zip(out, exact, strict=True)):
        _first_bad(
            ((part < -_RESULT_LIMIT) | (part > _RESULT_LIMIT)) & (index < _PAISE_COLUMNS),
            f"charges{when} exceed {_RESULT_LIMIT} paise",
            part,
            rows=np.flatnonzero(slow),
        )
        column[slow] = part.astype(np.int64)
    return Charges(*out)


def _price_rows(
    tariff: CategoryTariff, plan: _Plan, rows: _Rows, *, with_tod: bool
) -> tuple[_Ints, ...]:
    """The engine's _price and rounding chain on whole arrays (int64 or Python ints)."""
    used = rows.used_wh
    if plan.allowance_wh is None:
        free = used * 0
        within_free = np.zeros(len(used), dtype=np.bool_)
    else:
        allowance = np.asarray(
            [min(wh, _INT64_MAX) for wh in plan.allowance_wh],
            dtype=used.dtype if used.dtype == object else np.int64,
        )[rows.period_days]
        free = np.minimum(used, allowance)
        within_free = used <= allowance
    gross, subsidy = used * 0, used * 0
    floor_wh = 0
    for slab in tariff.slabs:
        ceiling = used if slab.upto_wh is None else np.minimum(used, min(slab.upto_wh, _INT64_MAX))
        slab_wh = np.maximum(ceiling - np.maximum(free, min(floor_wh, _INT64_MAX)), 0)
        gross = gross + slab_wh * slab.paise_per_kwh
        subsidy = subsidy + slab_wh * slab.subsidy_paise_per_kwh
        floor_wh = slab.upto_wh if slab.upto_wh is not None else floor_wh
    billed = used - free
    quantities = {
        _GROSS: gross,
        _SUBSIDY: subsidy,
        _BILLED: billed,
        _DEMAND: np.where(within_free, 0, _demand(tariff, rows)),
    }
    numerators = [
        sum(
            (
                quantities[name] * multiplier
                for name, multiplier in zip(_QUANTITIES, form, strict=True)
                if multiplier
            ),
            used * 0,
        )
        for form in plan.running
    ]
    energy, less_subsidy, less_rebate, with_fixed, with_duty = numerators
    denominator = plan.denominator
    if with_tod:
        used_wh = np.maximum(used, 1)  # no band holds Wh when none were used
        tod_numerator = gross * _tod_percent_wh(tariff, rows) * denominator
        scale = used_wh * _TOD_SCALE
        after_tod = [
            _round_half_up(numerator * scale + tod_numerator, denominator * scale)
            for numerator in (less_rebate, with_fixed, with_duty)
        ]
    else:
        after_tod = [
            _round_half_up(numerator, denominator)
            for numerator in (less_rebate, with_fixed, with_duty)
        ]
    rounded = [
        _round_half_up(energy, denominator),
        _round_half_up(less_subsidy, denominator),
        _round_half_up(less_rebate, denominator),
        *after_tod,
    ]
    r_energy, r_subsidy, r_rebate, r_tod, r_fixed, r_duty = rounded
    return (
        r_energy,
        r_energy - r_subsidy,
        r_subsidy - r_rebate,
        r_tod - r_rebate,
        r_fixed - r_tod,
        r_duty - r_fixed,
        r_duty,
        used,
        free,
        billed,
    )


def _demand(tariff: CategoryTariff, rows: _Rows) -> _Ints:
    fixed = tariff.fixed
    if fixed is None:
        return rows.days * 0
    if fixed.basis is FixedBasis.PER_CONNECTION:
        return rows.days
    floor = rows.sanctioned_load_w * fixed.demand_floor_pct
    demand: _Ints = np.maximum(rows.max_demand_w * 100, floor) * rows.days
    return demand


def _tod_percent_wh(tariff: CategoryTariff, rows: _Rows) -> _Ints:
    """sum over bands of (percent - 100) x band Wh."""
    total = rows.used_wh * 0
    for band in tariff.tod_bands:
        if band.name in rows.band_wh and band.percent != 100:
            total = total + rows.band_wh[band.name] * (band.percent - 100)
    return total


def _round_half_up(numerator: _Ints, denominator: _Ints | int) -> _Ints:
    """round_half_up on whole arrays: half away from zero, by integer floor division."""
    twice = denominator * 2
    up = (numerator * 2 + denominator) // twice
    down = -((denominator - numerator * 2) // twice)
    result: _Ints = np.where(numerator >= 0, up, down)
    return result


def _fits_int64(
    tariff: CategoryTariff, plan: _Plan, rows: _Rows, with_tod: bool
) -> NDArray[np.bool_]:
    """The rows the int64 path prices exactly: bounded numerators and no ToD term."""
    if not plan.fits_int64:
        return np.zeros(len(rows.used_wh), dtype=np.bool_)
    demand_w = np.maximum(rows.max_demand_w, rows.sanctioned_load_w).astype(np.float64)
    bound = (
        rows.used_wh.astype(np.float64) * plan.bound_per_wh
        + demand_w * plan.bound_per_w
        + plan.bound_constant
    )
    fits: NDArray[np.bool_] = bound < _NUMERATOR_LIMIT
    if with_tod:
        for band in tariff.tod_bands:
            if band.name in rows.band_wh and band.percent != 100:
                fits &= rows.band_wh[band.name] == 0
    return fits


def _plan(tariff: CategoryTariff, month: date) -> _Plan:
    """The running sums as integer multipliers of the four quantities over one D."""
    month_days = days_in_month(month)
    energy: _Form = {_GROSS: Fraction(1, MILLIPAISE_PER_PAISA)}
    less_subsidy: _Form = {_SUBSIDY: Fraction(-1, MILLIPAISE_PER_PAISA)}
    net = _add(energy, less_subsidy)
    less_rebate: _Form = {}
    rebate = tariff.rebate
    if rebate is not None and rebate.paise_per_kwh:
        less_rebate = {_BILLED: Fraction(-rebate.paise_per_kwh, MILLIPAISE_PER_PAISA)}
    elif rebate is not None:
        base = energy if rebate.base is RebateBase.GROSS else net
        less_rebate = _scale(base, Fraction(-rebate.basis_points, BASIS_POINTS))
    fixed_charge: _Form = {}
    fixed = tariff.fixed
    if fixed is not None and fixed.basis is FixedBasis.PER_CONNECTION:
        fixed_charge = {_DEMAND: Fraction(fixed.paise_per_month, month_days)}
    elif fixed is not None:
        per_demand = Fraction(fixed.paise_per_month, 100 * WH_PER_KWH * month_days)
        fixed_charge = {_DEMAND: per_demand}
    duty_charge: _Form = {}
    if tariff.duty is not None:
        duty_base = {
            DutyBase.ENERGY_GROSS: energy,
            DutyBase.ENERGY_NET: net,
            DutyBase.ENERGY_NET_AFTER_REBATE: _add(net, less_rebate),
            DutyBase.ENERGY_GROSS_PLUS_FIXED: _add(energy, fixed_charge),
        }[tariff.duty.base]
        duty_charge = _scale(duty_base, Fraction(tariff.duty.basis_points, BASIS_POINTS))
    running = list(accumulate((energy, less_subsidy, less_rebate, fixed_charge, duty_charge), _add))
    denominator = math.lcm(*(c.denominator for form in running for c in form.values()))
    multipliers = tuple(
        tuple(int(form.get(name, 0) * denominator) for name in _QUANTITIES) for form in running
    )
    free = tariff.free_units
    allowance = None
    if free is not None and free.applies_to(month):
        allowance = tuple(free.allowance_wh(days) for days in range(_MAX_MONTH_DAYS + 1))
    return _Plan(denominator, multipliers, allowance, *_bounds(tariff, denominator, multipliers))


def _bounds(
    tariff: CategoryTariff, denominator: int, multipliers: Sequence[Sequence[int]]
) -> tuple[bool, float, float, float]:
    """Whether int64 can hold the tariff's constants, and a, b, c of the row bound."""
    top = [max(abs(form[index]) for form in multipliers) + 1 for index in range(4)]
    rate = max(slab.paise_per_kwh for slab in tariff.slabs)
    subsidy = max(slab.subsidy_paise_per_kwh for slab in tariff.slabs)
    per_wh = top[0] * rate + top[1] * subsidy + top[2]
    per_w, constant = 0, 0
    if tariff.fixed is not None and tariff.fixed.basis is FixedBasis.PER_KW:
        per_w = top[3] * 100 * _MAX_MONTH_DAYS
    elif tariff.fixed is not None:
        constant = top[3] * _MAX_MONTH_DAYS
    constants = [2 * denominator, rate, per_wh, per_w, constant, *top]
    if max(constants) >= _NUMERATOR_LIMIT:
        return False, 0.0, 0.0, 0.0
    return True, float(per_wh), float(per_w), float(constant)


def _add(left: _Form, right: _Form) -> _Form:
    zero = Fraction(0)
    return {name: left.get(name, zero) + right.get(name, zero) for name in {*left, *right}}


def _scale(form: _Form, factor: Fraction) -> _Form:
    return {name: coefficient * factor for name, coefficient in form.items()}


def _band_columns(prefix: str, bands: Mapping[str, ArrayLike] | None) -> dict[str, ArrayLike]:
    return {f"{prefix}[{band!r}]": wh for band, wh in (bands or {}).items()}


def _bands(
    columns: Mapping[str, Int64s], prefix: str, bands: Mapping[str, ArrayLike] | None
) -> dict[str, Int64s]:
    return {band: columns[f"{prefix}[{band!r}]"] for band in bands or {}}


def _columns(**arrays: ArrayLike) -> dict[str, Int64s]:
    """One-dimensional integer arrays of one length, as int64."""
    columns: dict[str, Int64s] = {}
    for name, values in arrays.items():
        array = np.asarray(values)
        if array.ndim != 1:
            raise InvalidUsage(
                f"{name} must be a one-dimensional array, got {array.ndim} dimensions"
            )
        if array.size == 0:
            array = array.astype(np.int64)
        if array.dtype.kind not in "iu":
            raise InvalidUsage(f"{name} must hold integers, got {array.dtype}")
        if array.dtype.kind == "u" and array.size and int(array.max()) > _INT64_MAX:
            raise InvalidUsage(f"{name} holds values beyond int64")
        columns[name] = array.astype(np.int64)
    lengths = {name: len(array) for name, array in columns.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name} has {length}" for name, length in lengths.items())
        raise InvalidUsage(f"arrays must have equal lengths: {shown}")
    return columns


def _check_rows(tariff: CategoryTariff, month: date, rows: _Rows, when: str) -> None:
    """bill_to_date's checks on every row; an error names the first row that fails."""
    _check_month(month, rows.period_days)
    _first_bad(
        (rows.days < 0) | (rows.days > rows.period_days),
        f"days{when} must be 0-period_days",
        rows.days,
    )
    _check_not_negative(
        {
            f"used_wh{when}": rows.used_wh,
            f"max_demand_w{when}": rows.max_demand_w,
            f"sanctioned_load_w{when}": rows.sanctioned_load_w,
            **{f"time-of-day band {band!r}{when}": wh for band, wh in rows.band_wh.items()},
        }
    )
    remaining = rows.used_wh
    over = np.zeros(len(remaining), dtype=np.bool_)
    for wh in rows.band_wh.values():  # a running difference: a sum of bands could overflow
        over |= wh > remaining
        remaining = np.where(over, 0, remaining - np.minimum(wh, remaining))
    _first_bad(over, f"time-of-day bands hold more Wh than used_wh{when}", rows.used_wh)
    unknown = sorted(set(rows.band_wh) - {band.name for band in tariff.tod_bands})
    if tariff.tod_bands and rows.band_wh and unknown:
        known = ", ".join(band.name for band in tariff.tod_bands)
        raise InvalidUsage(f"unknown time-of-day band {unknown[0]!r}; the tariff has: {known}")


def _check_month(month: date, period_days: Int64s) -> None:
    if month.day != 1:
        raise InvalidUsage(f"month must be the first day of a month, got {month}")
    month_days = days_in_month(month)
    _first_bad(
        (period_days < 1) | (period_days > month_days),
        f"period_days must be 1-{month_days} for {month:%Y-%m}",
        period_days,
    )


def _check_not_negative(columns: Mapping[str, _Ints]) -> None:
    for name, values in columns.items():
        _first_bad(values < 0, f"{name} must not be negative", values)


def _check_sum_fits(name: str, left: Int64s, right: Int64s) -> None:
    _first_bad(right > _INT64_MAX - left, f"{name} exceeds int64", right)


def _first_bad(
    bad: NDArray[np.bool_], reason: str, values: _Ints, rows: _Ints | None = None
) -> None:
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        row = first if rows is None else int(rows[first])
        raise InvalidUsage(f"row {row}: {reason}, got {values[first]}")
