"""The tariff engine: price month-to-date use; a day is the difference of two such prices."""

from __future__ import annotations

from prepaidgrid.domain.tariffs.model import Bill, CategoryTariff, Usage


def bill_to_date(tariff: CategoryTariff, usage: Usage) -> Bill:
    """Price the period's use so far (cumulative, month-to-date)."""
    raise NotImplementedError


def monthly_bill(tariff: CategoryTariff, usage: Usage) -> Bill:
    """Price a whole period: bill_to_date with usage.days == usage.period_days."""
    raise NotImplementedError


def daily_charge(tariff: CategoryTariff, before: Usage, after: Usage) -> Bill:
    """One day's charge: bill_to_date(after) - bill_to_date(before), component by component,
    with lines that explain the day (which slab its units fell in, rates, subsidy, duty)."""
    raise NotImplementedError
