"""No-cut days: weekdays, nth weekdays, public holidays and the DISCOM's own list."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta

import pytest

from prepaidgrid.domain.calendars import check_holiday_source, no_cut_days, no_cut_reason
from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.supply import SupplyPolicy

POLICY = SupplyPolicy(
    name="calendar-test",
    grace=timedelta(hours=24),
    window_start=time(10),
    window_end=time(13),
    no_cut_weekdays=frozenset({6}),
    no_cut_nth_weekdays=frozenset({(2, 5)}),
    holiday_country="IN",
    holiday_subdivision="BR",
    extra_holidays=frozenset({date(2025, 10, 27), date(2025, 11, 19)}),
    extra_holiday_names=((date(2025, 10, 27), "Chhath Puja"),),
)


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2025, 8, 10), "Sunday"),
        (date(2025, 9, 13), "2nd Saturday"),
        (date(2025, 8, 15), "holiday: Independence Day"),
        (date(2025, 10, 27), "DISCOM holiday: Chhath Puja"),
        (date(2025, 11, 19), "DISCOM holiday"),
        (date(2025, 8, 5), None),
        (date(2025, 9, 6), None),  # the 1st Saturday is a working day
    ],
)
def test_each_kind_of_no_cut_day_says_why(day: date, reason: str | None) -> None:
    calendar = no_cut_days(POLICY)

    assert calendar(day) is (reason is not None)
    assert no_cut_reason(POLICY, day) == reason


def test_a_day_that_is_no_cut_for_several_reasons_gives_them_all() -> None:
    sunday_holiday = replace(POLICY, extra_holidays=frozenset({date(2025, 8, 10)}))

    reason = no_cut_reason(sunday_holiday, date(2025, 8, 10))

    assert reason == "Sunday; DISCOM holiday"


def test_the_calendar_of_a_policy_is_built_once() -> None:
    first = no_cut_days(POLICY)

    again = no_cut_days(replace(POLICY))

    assert again is first


def test_holiday_categories_widen_the_calendar() -> None:
    public_only = replace(POLICY, holiday_categories=("public",))
    with_government = replace(POLICY, holiday_categories=("public", "government"))
    mahasaptami = date(2025, 9, 29)

    assert not no_cut_days(public_only)(mahasaptami)
    assert no_cut_days(with_government)(mahasaptami)


def test_the_fifth_weekday_of_a_month_is_counted() -> None:
    fifth_friday = replace(POLICY, no_cut_nth_weekdays=frozenset({(5, 4)}))

    assert no_cut_reason(fifth_friday, date(2025, 8, 29)) == "5th Friday"
    assert no_cut_reason(fifth_friday, date(2025, 8, 22)) is None


@pytest.mark.parametrize(
    ("country", "subdivision", "categories"),
    [("XX", None, ["public"]), ("IN", "ZZ", ["public"]), ("IN", "BR", ["nonsense"])],
)
def test_an_unknown_holiday_source_is_refused(
    country: str, subdivision: str | None, categories: list[str]
) -> None:
    with pytest.raises(InvalidInput, match="no holiday calendar"):
        check_holiday_source(country, subdivision, categories)
