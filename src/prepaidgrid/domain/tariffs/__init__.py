"""Tariffs: versioned slab tariffs and the pure engine that prices month-to-date use."""

from prepaidgrid.domain.tariffs.engine import bill_to_date, daily_charge, monthly_bill
from prepaidgrid.domain.tariffs.model import (
    Bill,
    CategoryTariff,
    ChargeLine,
    TariffVersion,
    Usage,
)

__all__ = [
    "Bill",
    "CategoryTariff",
    "ChargeLine",
    "TariffVersion",
    "Usage",
    "bill_to_date",
    "daily_charge",
    "monthly_bill",
]
