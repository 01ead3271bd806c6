"""Tariffs: versioned slab tariffs and the pure engine that prices month-to-date use."""

from prepaidgrid.domain.tariffs.engine import bill_to_date, daily_charge, monthly_bill
from prepaidgrid.domain.tariffs.model import (
    Bill,
    CategoryTariff,
    ChargeLine,
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
)
from prepaidgrid.domain.tariffs.parsing import parse_tariff

__all__ = [
    "Bill",
    "CategoryTariff",
    "ChargeLine",
    "Duty",
    "DutyBase",
    "FixedBasis",
    "FixedCharge",
    "FreeUnits",
    "Rebate",
    "RebateBase",
    "Slab",
    "TariffVersion",
    "TodBand",
    "Usage",
    "bill_to_date",
    "daily_charge",
    "monthly_bill",
    "parse_tariff",
]
