"""The supply policy of worked example 3, shared by the supply tests."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from prepaidgrid.domain.supply import SupplyPolicy
from prepaidgrid.domain.units import IST

EXAMPLE_POLICY = SupplyPolicy(
    name="example-3",
    grace=timedelta(hours=24),
    window_start=time(10),
    window_end=time(13),
    no_cut_weekdays=frozenset({6}),
    no_cut_nth_weekdays=frozenset(),
    holiday_country="IN",
    holiday_subdivision="BR",
    extra_holidays=frozenset(),
)


def ist(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=IST)


def is_sunday(day: date) -> bool:
    return day.weekday() == 6
