"""The tariff engine: price month-to-date use; a day is the difference of two such prices.

Every charge is first computed exactly (as a Fraction of a paisa) on the month so far,
then rounded once. The components are rounded as a chain of running sums - energy, then
energy - subsidy, then - rebate, + ToD, + fixed, + duty - and each component is the step
between two rounded running sums. So energy, the net energy charge and the total are each
rounded exactly once, the components add up to the total with no stray paisa, and because
every running sum only grows with use and days, no day's total is ever negative (a
time-of-day discount deeper than a slab's net rate is the one exception). A day is
the difference of two month-to-date bills, so a month's days sum exactly to its bill.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import accumulate, pairwise

from prepaidgrid.domain.errors import InvalidUsage
from prepaidgrid.domain.tariffs.explanation import (
    duty_line,
    energy_line,
    fixed_line,
    free_line,
    rebate_line,
    subsidy_line,
    tod_line,
)
from prepaidgrid.domain.tariffs.model import (
    BASIS_POINTS,
    Bill,
    CategoryTariff,
    ChargeLine,
    DutyBase,
    FixedBasis,
    RebateBase,
    Slab,
    TodBand,
    Usage,
)
from prepaidgrid.domain.units import WH_PER_KWH, days_in_month, round_half_up

MILLIPAISE = 1000  # Wh x paise/kWh = millipaise


@dataclass(frozen=True, slots=True)
class _SlabUse:
    number: int
    slab: Slab
    floor_wh: int
    billed_wh: int  # billed Wh of the period that fall in this slab

    @property
    def gross(self) -> Fraction:
        return Fraction(self.billed_wh * self.slab.paise_per_kwh, MILLIPAISE)

    @property
    def subsidy(self) -> Fraction:
        return Fraction(self.billed_wh * self.slab.subsidy_paise_per_kwh, MILLIPAISE)


@dataclass(frozen=True, slots=True)
class _Exact:
    """Month-to-date charges in exact paise, before any rounding."""

    free_wh: int
    billed_wh: int
    slabs: tuple[_SlabUse, ...]
    rebate: Fraction
    tod: tuple[tuple[TodBand, int, Fraction], ...]  # (band, its Wh, its surcharge)
    fixed: Fraction
    demand_w: Fraction | None  # billing demand when the fixed charge is per kW
    duty: Fraction

    @property
    def gross(self) -> Fraction:
        return sum((use.gross for use in self.slabs), Fraction(0))

    @property
    def subsidy(self) -> Fraction:
        return sum((use.subsidy for use in self.slabs), Fraction(0))


def bill_to_date(tariff: CategoryTariff, usage: Usage) -> Bill:
    """Price the period's use so far (cumulative, month-to-date)."""
    _check_usage(usage)
    exact = _price(tariff, usage)
    running = accumulate(
        (
            exact.gross,
            -exact.subsidy,
            -exact.rebate,
            sum((surcharge for _, _, surcharge in exact.tod), Fraction(0)),
            exact.fixed,
            exact.duty,
        )
    )
    rounded = [0, *(_round(amount) for amount in running)]
    energy, less_subsidy, less_rebate, tod, fixed, duty = (
        after - before for before, after in pairwise(rounded)
    )
    return Bill(
        energy_paise=energy,
        subsidy_paise=-less_subsidy,
        rebate_paise=-less_rebate,
        tod_paise=tod,
        fixed_paise=fixed,
        duty_paise=duty,
        total_paise=rounded[-1],
        used_wh=usage.used_wh,
        free_wh=exact.free_wh,
        billed_wh=exact.billed_wh,
        lines=_lines(tariff, exact, energy, -less_subsidy, -less_rebate, tod, fixed, duty),
    )


def monthly_bill(tariff: CategoryTariff, usage: Usage) -> Bill:
    """Price a whole period: bill_to_date with usage.days == usage.period_days."""
    return bill_to_date(tariff, dataclasses.replace(usage, days=usage.period_days))


def daily_charge(tariff: CategoryTariff, before: Usage, after: Usage) -> Bill:
    """One day's charge: bill_to_date(after) - bill_to_date(before), component by component,
    with lines that explain the day (which slab its units fell in, rates, subsidy, duty)."""
    _check_step(before, after)
    later, earlier = bill_to_date(tariff, after), bill_to_date(tariff, before)
    return Bill(
        energy_paise=later.energy_paise - earlier.energy_paise,
        subsidy_paise=later.subsidy_paise - earlier.subsidy_paise,
        rebate_paise=later.rebate_paise - earlier.rebate_paise,
        tod_paise=later.tod_paise - earlier.tod_paise,
        fixed_paise=later.fixed_paise - earlier.fixed_paise,
        duty_paise=later.duty_paise - earlier.duty_paise,
        total_paise=later.total_paise - earlier.total_paise,
        used_wh=later.used_wh - earlier.used_wh,
        free_wh=later.free_wh - earlier.free_wh,
        billed_wh=later.billed_wh - earlier.billed_wh,
        lines=_line_difference(later.lines, earlier.lines),
    )


def _round(amount: Fraction) -> int:
    return round_half_up(amount.numerator, amount.denominator)


def _check_usage(usage: Usage) -> None:
    if usage.month.day != 1:
        raise InvalidUsage(f"month must be the first day of a month, got {usage.month}")
    month_days = days_in_month(usage.month)
    if not 1 <= usage.period_days <= month_days:
        raise InvalidUsage(
            f"period_days must be 1-{month_days} for {usage.month:%Y-%m}, got {usage.period_days}"
        )
    if not 0 <= usage.days <= usage.period_days:
        raise InvalidUsage(f"days must be 0-{usage.period_days}, got {usage.days}")
    for name in ("used_wh", "sanctioned_load_w", "max_demand_w"):
        if getattr(usage, name) < 0:
            raise InvalidUsage(f"{name} must not be negative, got {getattr(usage, name)}")
    if any(wh < 0 for wh in usage.band_wh.values()):
        raise InvalidUsage("time-of-day band energy must not be negative")
    if sum(usage.band_wh.values()) > usage.used_wh:
        raise InvalidUsage(
            f"time-of-day bands hold {sum(usage.band_wh.values())} Wh, more than the "
            f"{usage.used_wh} Wh used"
        )


def _check_step(before: Usage, after: Usage) -> None:
    """A day moves one period forward: same month, never less use, days or demand."""
    same = ("month", "period_days", "sanctioned_load_w")
    if any(getattr(before, name) != getattr(after, name) for name in same):
        raise InvalidUsage("before and after must be the same period and connection")
    for name in ("used_wh", "days", "max_demand_w"):
        if getattr(after, name) < getattr(before, name):
            raise InvalidUsage(
                f"{name} went backwards: {getattr(before, name)} -> {getattr(after, name)}"
            )
    if any(after.band_wh.get(band, 0) < wh for band, wh in before.band_wh.items()):
        raise InvalidUsage("time-of-day band energy went backwards")


def _price(tariff: CategoryTariff, usage: Usage) -> _Exact:
    free = tariff.free_units
    has_free = free is not None and free.applies_to(usage.month)
    allowance_wh = free.allowance_wh(usage.period_days) if free and has_free else 0
    free_wh = min(usage.used_wh, allowance_wh)
    within_free = has_free and usage.used_wh <= allowance_wh
    slabs = _slab_uses(tariff.slabs, free_wh, usage.used_wh)
    gross = sum((use.gross for use in slabs), Fraction(0))
    net = gross - sum((use.subsidy for use in slabs), Fraction(0))
    rebate = _rebate(tariff, usage.used_wh - free_wh, gross, net)
    fixed, demand_w = (Fraction(0), None) if within_free else _fixed(tariff, usage)
    duty_base = {
        DutyBase.ENERGY_GROSS: gross,
        DutyBase.ENERGY_NET: net,
        DutyBase.ENERGY_NET_AFTER_REBATE: net - rebate,
        DutyBase.ENERGY_GROSS_PLUS_FIXED: gross + fixed,
    }
    duty = (
        Fraction(0)
        if tariff.duty is None
        else duty_base[tariff.duty.base] * tariff.duty.basis_points / BASIS_POINTS
    )
    return _Exact(
        free_wh=free_wh,
        billed_wh=usage.used_wh - free_wh,
        slabs=slabs,
        rebate=rebate,
        tod=_tod(tariff, usage, gross),
        fixed=fixed,
        demand_w=demand_w,
        duty=duty,
    )


def _slab_uses(slabs: Sequence[Slab], free_wh: int, used_wh: int) -> tuple[_SlabUse, ...]:
    """Telescopic slabs on the month's cumulative Wh; the free units are the month's first."""
    uses: list[_SlabUse] = []
    floor_wh = 0
    for number, slab in enumerate(slabs, start=1):
        ceiling_wh = used_wh if slab.upto_wh is None else min(slab.upto_wh, used_wh)
        billed_wh = max(0, ceiling_wh - max(floor_wh, free_wh))
        uses.append(_SlabUse(number, slab, floor_wh, billed_wh))
        floor_wh = slab.upto_wh if slab.upto_wh is not None else floor_wh
    return tuple(uses)


def _rebate(tariff: CategoryTariff, billed_wh: int, gross: Fraction, net: Fraction) -> Fraction:
    rebate = tariff.rebate
    if rebate is None:
        return Fraction(0)
    if rebate.paise_per_kwh:
        return Fraction(billed_wh * rebate.paise_per_kwh, MILLIPAISE)
    base = gross if rebate.base is RebateBase.GROSS else net
    return base * rebate.basis_points / BASIS_POINTS


def _fixed(tariff: CategoryTariff, usage: Usage) -> tuple[Fraction, Fraction | None]:
    """The fixed charge pro rata to the days elapsed: monthly x days / days in the month."""
    fixed = tariff.fixed
    if fixed is None:
        return Fraction(0), None
    share = Fraction(usage.days, days_in_month(usage.month))
    if fixed.basis is FixedBasis.PER_CONNECTION:
        return fixed.paise_per_month * share, None
    floor_w = Fraction(fixed.demand_floor_pct * usage.sanctioned_load_w, 100)
    demand_w = max(Fraction(usage.max_demand_w), floor_w)
    return fixed.paise_per_month * demand_w / WH_PER_KWH * share, demand_w


def _tod(
    tariff: CategoryTariff, usage: Usage, gross: Fraction
) -> tuple[tuple[TodBand, int, Fraction], ...]:
    """Attribute the billed energy charge to bands pro rata by Wh; each band adds its
    (percent - 100)% of its share."""
    if not tariff.tod_bands or not usage.band_wh:
        return ()
    unknown = sorted(set(usage.band_wh) - {band.name for band in tariff.tod_bands})
    if unknown:
        known = ", ".join(band.name for band in tariff.tod_bands)
        raise InvalidUsage(f"unknown time-of-day band {unknown[0]!r}; the tariff has: {known}")
    return tuple(
        (
            band,
            usage.band_wh.get(band.name, 0),
            gross * (band.percent - 100) * usage.band_wh.get(band.name, 0) / (100 * usage.used_wh),
        )
        for band in tariff.tod_bands
        if usage.used_wh
    )


def _lines(
    tariff: CategoryTariff,
    exact: _Exact,
    energy: int,
    subsidy: int,
    rebate: int,
    tod: int,
    fixed: int,
    duty: int,
) -> tuple[ChargeLine, ...]:
    """The bill's explanation: each component split over its slabs or bands so that the
    lines add up exactly to the total."""
    billed = [use for use in exact.slabs if use.billed_wh]
    lines: list[ChargeLine] = []
    if tariff.free_units is not None and exact.free_wh:
        lines.append(free_line(tariff.free_units, exact.free_wh))
    energy_parts = _apportion(energy, [use.gross for use in billed])
    lines += [
        energy_line(use.number, use.slab, use.floor_wh, use.billed_wh, amount)
        for use, amount in zip(billed, energy_parts, strict=True)
    ]
    if subsidy:
        parts = _apportion(subsidy, [use.subsidy for use in billed])
        lines += [
            subsidy_line(use.number, use.slab, use.floor_wh, use.billed_wh, -amount)
            for use, amount in zip(billed, parts, strict=True)
        ]
    if rebate and tariff.rebate is not None:
        lines.append(rebate_line(tariff.rebate, exact.billed_wh, -rebate))
    if exact.tod:
        parts = _apportion(tod, [surcharge for _, _, surcharge in exact.tod])
        lines += [
            tod_line(band, band_wh, amount)
            for (band, band_wh, _), amount in zip(exact.tod, parts, strict=True)
            if amount or band_wh
        ]
    if fixed and tariff.fixed is not None:
        lines.append(fixed_line(tariff.fixed, exact.demand_w, fixed))
    if duty and tariff.duty is not None:
        lines.append(duty_line(tariff.duty, duty))
    return tuple(line for line in lines if line.amount_paise or line.quantity_wh)


def _apportion(total: int, parts: Sequence[Fraction]) -> list[int]:
    """Split a rounded total over exact parts: round the running sums, and let the last
    part absorb the (at most one paisa) difference between the two roundings."""
    if not parts:
        return []
    rounded = [0, *(_round(amount) for amount in accumulate(parts))]
    shares = [after - before for before, after in pairwise(rounded)]
    shares[-1] += total - rounded[-1]
    return shares


def _line_difference(
    after: Sequence[ChargeLine], before: Sequence[ChargeLine]
) -> tuple[ChargeLine, ...]:
    """The lines of a day: each month-to-date line minus the same line the day before."""
    earlier = {line.code: line for line in before}
    lines = []
    for line in after:
        previous = earlier.pop(line.code, None)
        if previous is None:
            lines.append(line)
            continue
        quantity = None
        if line.quantity_wh is not None:
            quantity = line.quantity_wh - (previous.quantity_wh or 0)
        lines.append(
            dataclasses.replace(
                line,
                amount_paise=line.amount_paise - previous.amount_paise,
                quantity_wh=quantity,
            )
        )
    lines += [
        dataclasses.replace(
            line,
            amount_paise=-line.amount_paise,
            quantity_wh=None if line.quantity_wh is None else -line.quantity_wh,
        )
        for line in earlier.values()
    ]
    return tuple(line for line in lines if line.amount_paise or line.quantity_wh)
