"""No-cut days: weekly rest days, nth weekdays, public holidays and the DISCOM's own list.

A cut is only allowed on a day the consumer can still walk to a counter and recharge, so
every day the offices are shut is a no-cut day. The `holidays` package is pure computation
(no I/O), so it may live in the domain; its answers are cached per policy and per year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache

import holidays

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.supply import WEEKDAY_NAMES, SupplyPolicy

ORDINALS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "5th"}


class NoCutCalendar:
    """`IsNoCutDay` for one policy, that can also say why a day is one.

    Holidays are computed a year at a time, the first time a day of that year is asked
    about: a scheduler evaluating a million connections asks about the same few days.
    """

    __slots__ = ("_by_year", "_extra", "policy")

    def __init__(self, policy: SupplyPolicy) -> None:
        self.policy = policy
        names = dict(policy.extra_holiday_names)
        self._extra = {day: names.get(day, "") for day in policy.extra_holidays}
        self._by_year: dict[int, Mapping[date, str]] = {}

    def __call__(self, day: date) -> bool:
        return self.reason(day) is not None

    def reason(self, day: date) -> str | None:
        """'Sunday', '2nd Saturday', 'holiday: Independence Day', 'DISCOM holiday: …'."""
        reasons: list[str] = []
        weekday = day.weekday()
        if weekday in self.policy.no_cut_weekdays:
            reasons.append(WEEKDAY_NAMES[weekday])
        nth = (day.day - 1) // 7 + 1
        if (nth, weekday) in self.policy.no_cut_nth_weekdays:
            reasons.append(f"{ORDINALS[nth]} {WEEKDAY_NAMES[weekday]}")
        holiday = self._holidays(day.year).get(day)
        if holiday is not None:
            reasons.append(f"holiday: {holiday}")
        if day in self._extra:
            name = self._extra[day]
            reasons.append(f"DISCOM holiday: {name}" if name else "DISCOM holiday")
        return "; ".join(reasons) or None

    def _holidays(self, year: int) -> Mapping[date, str]:
        cached = self._by_year.get(year)
        if cached is None:
            cached = public_holidays(
                self.policy.holiday_country,
                self.policy.holiday_subdivision,
                self.policy.holiday_categories,
                year,
            )
            self._by_year[year] = cached
        return cached


@lru_cache(maxsize=32)
def no_cut_days(policy: SupplyPolicy) -> NoCutCalendar:
    """The no-cut calendar of a policy (one per policy, so its year cache is shared)."""
    return NoCutCalendar(policy)


def no_cut_reason(policy: SupplyPolicy, day: date) -> str | None:
    """Why no cut may happen on `day`, or None when cuts are allowed that day."""
    return no_cut_days(policy).reason(day)


def public_holidays(
    country: str, subdivision: str | None, categories: Iterable[str], year: int
) -> Mapping[date, str]:
    """The holidays of one year, as a plain mapping of day to English name(s)."""
    try:
        calendar = holidays.country_holidays(
            country, subdiv=subdivision, years=year, categories=tuple(categories)
        )
    except (NotImplementedError, ValueError, KeyError) as error:
        raise InvalidInput(
            f"no holiday calendar for country {country!r}, subdivision {subdivision!r}, "
            f"categories {sorted(categories)}: {error}"
        ) from None
    return {day: str(name) for day, name in calendar.items()}


def check_holiday_source(
    country: str, subdivision: str | None, categories: Iterable[str], year: int = 2025
) -> None:
    """Refuse a country/subdivision/category the `holidays` package does not know."""
    public_holidays(country, subdivision, categories, year)
