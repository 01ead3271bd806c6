"""Tariff values: slabs, subsidy, rebate, fixed charge, duty, free units, time-of-day bands.

CONTRACT (services and billing depend on these names). Every figure is an integer in the
unit its name says (paise, paise/kWh, Wh, W, basis points, percent); a tariff refuses
itself at construction when its slabs or rebate could make a day's charge negative, so the
engine never has to second-guess it (time-of-day discounts are not checked: a band's depth
depends on the month's mix of bands).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from prepaidgrid.domain.errors import InvalidInput, UnknownCategory
from prepaidgrid.domain.units import round_half_up

BASIS_POINTS = 10_000  # 600 basis points = 6%


class RebateBase(StrEnum):
    """What a percentage rebate is a share of: Bihar has not published the order of
    application against the subsidy, so the tariff file chooses."""

    GROSS = "gross"  # energy before subsidy
    NET = "net"  # energy after subsidy


class DutyBase(StrEnum):
    """What electricity duty is a percentage of (Bihar: gross energy, UNCONFIRMED)."""

    ENERGY_GROSS = "energy_gross"
    ENERGY_NET = "energy_net"
    ENERGY_NET_AFTER_REBATE = "energy_net_after_rebate"
    ENERGY_GROSS_PLUS_FIXED = "energy_gross_plus_fixed"


class FixedBasis(StrEnum):
    PER_KW = "per_kw"  # per kW of billing demand per month
    PER_CONNECTION = "per_connection"  # flat per month


@dataclass(frozen=True, slots=True)
class Slab:
    upto_wh: int | None  # cumulative monthly ceiling; None for the last slab
    paise_per_kwh: int  # energy rate before subsidy
    subsidy_paise_per_kwh: int = 0

    @property
    def net_paise_per_kwh(self) -> int:
        return self.paise_per_kwh - self.subsidy_paise_per_kwh


@dataclass(frozen=True, slots=True)
class Usage:
    """What has been used in a billing period (a month) up to some day."""

    used_wh: int  # energy used in the period so far
    days: int  # days of the period elapsed so far (0 before the first day .. period_days)
    period_days: int  # days in the period (the calendar month, or days in service)
    month: date  # first day of the calendar month being billed
    sanctioned_load_w: int = 1000
    max_demand_w: int = 0  # highest recorded demand in the period so far
    band_wh: Mapping[str, int] = field(default_factory=dict)  # energy per time-of-day band


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One line of a bill's explanation, shown to the consumer."""

    code: str  # machine name, e.g. "energy.slab.2", "subsidy.slab.2", "duty"
    label: str  # English text, e.g. "Energy 100-200 units @ ₹8.95"
    amount_paise: int  # signed: charges positive, credits (subsidy, rebate) negative
    quantity_wh: int | None = None
    rate_paise_per_kwh: int | None = None
    label_hi: str = ""  # Hindi text


@dataclass(frozen=True, slots=True)
class Bill:
    """A priced period (monthly bill) or a priced day (difference of two month-to-date bills).

    total_paise = energy - subsidy - rebate + tod + fixed + duty
    """

    energy_paise: int  # before subsidy, on billed units only (free units excluded)
    subsidy_paise: int  # state subsidy (a receivable from the state), positive
    rebate_paise: int  # prepaid rebate, positive
    tod_paise: int  # time-of-day surcharge (+) or discount (-)
    fixed_paise: int
    duty_paise: int
    total_paise: int  # what the consumer's wallet is debited
    used_wh: int
    free_wh: int  # part of used_wh covered by the free-units allowance
    billed_wh: int
    lines: tuple[ChargeLine, ...]


@dataclass(frozen=True, slots=True)
class Rebate:
    """The prepaid rebate: either paise per billed kWh or a percentage (basis points)."""

    paise_per_kwh: int = 0
    basis_points: int = 0
    base: RebateBase = RebateBase.NET  # only for basis_points

    def __post_init__(self) -> None:
        if self.paise_per_kwh < 0 or self.basis_points < 0:
            raise InvalidInput("a rebate must not be negative")
        if self.paise_per_kwh and self.basis_points:
            raise InvalidInput("a rebate is per unit or a percentage, not both")
        if self.basis_points > BASIS_POINTS:
            raise InvalidInput("a percentage rebate must not exceed 100%")


@dataclass(frozen=True, slots=True)
class FixedCharge:
    paise_per_month: int  # per kW of billing demand, or per connection
    basis: FixedBasis = FixedBasis.PER_KW
    demand_floor_pct: int = 75  # billing demand = max(MD, this % of sanctioned load)

    def __post_init__(self) -> None:
        if self.paise_per_month < 0 or not 0 <= self.demand_floor_pct <= 100:
            raise InvalidInput("a fixed charge needs a rate >= 0 and a demand floor of 0-100%")


@dataclass(frozen=True, slots=True)
class Duty:
    basis_points: int
    base: DutyBase = DutyBase.ENERGY_GROSS

    def __post_init__(self) -> None:
        if self.basis_points < 0:
            raise InvalidInput("electricity duty must not be negative")


@dataclass(frozen=True, slots=True)
class FreeUnits:
    """A monthly allowance stated per 30 days (Bihar: 125 units from 2025-08-01)."""

    wh_per_30_days: int
    effective_from: date  # applies to months whose first day is on or after this

    def __post_init__(self) -> None:
        if self.wh_per_30_days < 0:
            raise InvalidInput("a free-units allowance must not be negative")

    def applies_to(self, month: date) -> bool:
        return month >= self.effective_from

    def allowance_wh(self, period_days: int) -> int:
        """Pro-rated on the whole period, not the days elapsed, so that month-to-date
        charges only ever grow and no day is ever credited back."""
        return round_half_up(self.wh_per_30_days * period_days, 30)


@dataclass(frozen=True, slots=True)
class TodBand:
    """A time-of-day band: energy used in it is charged at `percent` of the energy rate."""

    name: str  # "peak"
    percent: int  # 120 = 1.2x the energy rate; 80 = a 20% discount
    start_hour: int  # local (IST) hour the band starts, inclusive
    end_hour: int  # local hour it ends, exclusive; may wrap past midnight (22 -> 6)

    def __post_init__(self) -> None:
        hours_ok = 0 <= self.start_hour <= 23 and 0 <= self.end_hour <= 24
        if self.percent < 0 or not hours_ok or self.start_hour == self.end_hour:
            raise InvalidInput(f"time-of-day band {self.name!r} needs percent >= 0 and hours")

    def covers(self, hour: int) -> bool:
        if self.start_hour < self.end_hour:
            return self.start_hour <= hour < self.end_hour
        return hour >= self.start_hour or hour < self.end_hour


@dataclass(frozen=True, slots=True)
class CategoryTariff:
    code: str  # "DS-II"
    name: str
    slabs: tuple[Slab, ...]
    rebate: Rebate | None = None
    fixed: FixedCharge | None = None
    duty: Duty | None = None
    free_units: FreeUnits | None = None
    tod_bands: tuple[TodBand, ...] = ()
    name_hi: str = ""

    def __post_init__(self) -> None:
        _check_slabs(self.code, self.slabs, self.rebate)
        names = [band.name for band in self.tod_bands]
        if len(set(names)) != len(names):
            raise InvalidInput(f"category {self.code}: time-of-day band names repeat")

    def band(self, name: str) -> TodBand | None:
        return next((band for band in self.tod_bands if band.name == name), None)


def _check_slabs(code: str, slabs: tuple[Slab, ...], rebate: Rebate | None) -> None:
    """Slabs ascend and end open; no slab's net rate after rebate is negative (a negative
    net rate would make a day of higher use cost less than nothing)."""
    if not slabs:
        raise InvalidInput(f"category {code}: at least one slab is needed")
    floor_wh = 0
    for number, slab in enumerate(slabs, start=1):
        is_last = number == len(slabs)
        if (slab.upto_wh is None) != is_last:
            raise InvalidInput(f"category {code}: only the last slab is open-ended")
        if slab.upto_wh is not None and slab.upto_wh <= floor_wh:
            raise InvalidInput(f"category {code}: slab {number} ceilings must ascend")
        if slab.paise_per_kwh < 0 or not 0 <= slab.subsidy_paise_per_kwh <= slab.paise_per_kwh:
            raise InvalidInput(f"category {code}: slab {number} needs 0 <= subsidy <= rate")
        if rebate is not None and _rebate_exceeds_net(slab, rebate):
            raise InvalidInput(f"category {code}: the rebate exceeds slab {number}'s net rate")
        floor_wh = slab.upto_wh or floor_wh


def _rebate_exceeds_net(slab: Slab, rebate: Rebate) -> bool:
    net = slab.net_paise_per_kwh
    if rebate.paise_per_kwh:
        return rebate.paise_per_kwh > net
    if rebate.base is RebateBase.GROSS:
        return rebate.basis_points * slab.paise_per_kwh > net * BASIS_POINTS
    return False  # a share (<= 100%) of the net rate never exceeds it


@dataclass(frozen=True, slots=True)
class TariffVersion:
    id: str  # "bihar-2025-26"
    discoms: tuple[str, ...]  # ("SBPDCL", "NBPDCL")
    effective_from: date
    effective_to: date | None  # last day in force (inclusive); None while open-ended
    categories: Mapping[str, CategoryTariff]
    unconfirmed: tuple[str, ...] = ()  # dotted paths of figures without a primary source
    name: str = ""

    def category(self, code: str) -> CategoryTariff:
        try:
            return self.categories[code]
        except KeyError:
            known = ", ".join(sorted(self.categories)) or "none"
            raise UnknownCategory(
                f"tariff {self.id} has no category {code!r}; it has: {known}"
            ) from None

    def is_in_force(self, day: date) -> bool:
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )

    def unconfirmed_for(self, code: str) -> tuple[str, ...]:
        """The unconfirmed figures that bear on one category (and the tariff as a whole)."""
        own = f"categories.{code}."
        return tuple(
            path
            for path in self.unconfirmed
            if path.startswith(own) or not path.startswith("categories.")
        )
