"""Billing: the tariff engine's prices for many accounts at once, as whole arrays."""

from prepaidgrid.domain.billing.kernel import Charges, price_days, price_to_date

__all__ = ["Charges", "price_days", "price_to_date"]
