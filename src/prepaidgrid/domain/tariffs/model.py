"""Tariff values: slabs, subsidy, rebate, fixed charge, duty, free units, time-of-day bands.

CONTRACT (services and billing depend on these names; the tariff helper fills in the rest).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class Slab:
    upto_wh: int | None  # cumulative monthly ceiling; None for the last slab
    paise_per_kwh: int  # energy rate before subsidy
    subsidy_paise_per_kwh: int = 0


@dataclass(frozen=True, slots=True)
class Usage:
    """What has been used in a billing period (a month) up to some day."""

    used_wh: int  # energy used in the period so far
    days: int  # days of the period elapsed so far (1..period_days)
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
class CategoryTariff:
    code: str  # "DS-II"
    name: str
    # further fields (rebate, fixed charge, duty, free units, tod bands) owned by the engine
    slabs: tuple[Slab, ...]


@dataclass(frozen=True, slots=True)
class TariffVersion:
    id: str  # "bihar-2025-26"
    discoms: tuple[str, ...]  # ("SBPDCL", "NBPDCL")
    effective_from: date
    effective_to: date | None
    categories: Mapping[str, CategoryTariff]
    unconfirmed: tuple[str, ...] = ()  # dotted paths of figures without a primary source

    def category(self, code: str) -> CategoryTariff:
        raise NotImplementedError  # raises UnknownCategory with the known codes
