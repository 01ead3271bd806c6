"""When a cut may happen: grace, the daily window and no-cut days (worked example 3)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepaidgrid.adapters.profile_files import list_profiles, load_policy
from prepaidgrid.domain.calendars import no_cut_days
from prepaidgrid.domain.errors import InvalidInput, InvalidTimestamp
from prepaidgrid.domain.supply import (
    SupplyPolicy,
    duration_label,
    instant_label,
    next_cut_at,
    plan_cut,
)
from prepaidgrid.domain.units import IST
from tests.unit.domain.example_policy import EXAMPLE_POLICY, is_sunday, ist


@cache
def shipped(name: str) -> SupplyPolicy:
    return load_policy(name)


@pytest.mark.parametrize(
    ("zero_at", "cut_at"),
    [
        ("2025-08-05T09:00", "2025-08-06T10:00"),  # Tuesday 09:00 -> Wednesday 10:00
        ("2025-08-05T11:30", "2025-08-06T11:30"),  # grace ends inside the window
        ("2025-08-08T21:00", "2025-08-11T10:00"),  # Sat window missed, Sunday skipped
    ],
)
def test_worked_example_3_schedules_the_cut(zero_at: str, cut_at: str) -> None:
    zero = ist(zero_at)

    with_sundays = next_cut_at(zero, EXAMPLE_POLICY, is_sunday)
    with_bihar = next_cut_at(zero, shipped("bihar"), no_cut_days(shipped("bihar")))

    assert with_sundays == ist(cut_at)
    assert with_bihar == ist(cut_at)


def test_next_cut_at_answers_in_utc() -> None:
    zero = ist("2025-08-05T09:00")

    cut = next_cut_at(zero, EXAMPLE_POLICY, is_sunday)

    assert cut.tzinfo is UTC
    assert cut == datetime(2025, 8, 6, 4, 30, tzinfo=UTC)


def test_friday_night_plan_explains_the_missed_window_and_the_sunday() -> None:
    zero = ist("2025-08-08T21:00")

    plan = plan_cut(zero, EXAMPLE_POLICY, is_sunday)

    assert plan.grace_ends_at == ist("2025-08-09T21:00")
    assert [(s.day, s.reason) for s in plan.skipped] == [
        (date(2025, 8, 9), "21:00 is after the 10:00–13:00 window"),
        (date(2025, 8, 10), "Sunday"),
    ]
    assert plan.reasons == (
        "grace of 24 h ends Sat 2025-08-09 21:00 IST, after that day's 10:00–13:00 window",
        "Sunday 2025-08-10: no cuts on Sundays",
        "earliest cut: Mon 2025-08-11 10:00 IST",
    )


def test_grace_ending_exactly_at_window_end_waits_for_the_next_window() -> None:
    zero = ist("2025-08-05T13:00")

    cut = next_cut_at(zero, EXAMPLE_POLICY, is_sunday)

    assert cut == ist("2025-08-07T10:00")


def test_grace_ending_exactly_at_window_start_cuts_then() -> None:
    zero = ist("2025-08-05T10:00")

    cut = next_cut_at(zero, EXAMPLE_POLICY, is_sunday)

    assert cut == ist("2025-08-06T10:00")


def test_bihar_skips_chhath_as_a_discom_holiday() -> None:
    bihar = shipped("bihar")

    plan = plan_cut(ist("2025-10-25T12:00"), bihar, no_cut_days(bihar))

    assert plan.cut_at == ist("2025-10-29T10:00")
    assert [s.day for s in plan.skipped] == [
        date(2025, 10, 26),
        date(2025, 10, 27),
        date(2025, 10, 28),
    ]
    assert (
        "Monday 2025-10-27: no cuts (DISCOM holiday: Chhath Puja (Sandhya Arghya))" in plan.reasons
    )


def test_bihar_skips_independence_day() -> None:
    bihar = shipped("bihar")

    plan = plan_cut(ist("2025-08-14T11:00"), bihar, no_cut_days(bihar))

    assert plan.cut_at == ist("2025-08-18T10:00")  # Fri 15th holiday, Sat 16th Janmashtami, Sun
    friday = next(r for r in plan.reasons if r.startswith("Friday 2025-08-15: no cuts (holiday:"))
    assert "Independence Day" in friday


def test_a_naive_grace_start_is_refused() -> None:
    naive = datetime(2025, 8, 5, 9)  # noqa: DTZ001 - the point of the test

    with pytest.raises(InvalidTimestamp):
        next_cut_at(naive, EXAMPLE_POLICY, is_sunday)


def test_a_policy_that_never_allows_a_cut_is_refused() -> None:
    zero = ist("2025-08-05T09:00")

    with pytest.raises(InvalidInput, match="allows no cut"):
        next_cut_at(zero, EXAMPLE_POLICY, lambda day: True)


@pytest.mark.parametrize(
    ("span", "label"),
    [
        (timedelta(hours=24), "24 h"),
        (timedelta(days=3), "3 days"),
        (timedelta(minutes=90), "90 min"),
    ],
)
def test_durations_read_as_people_say_them(span: timedelta, label: str) -> None:
    assert duration_label(span) == label


def test_instants_show_seconds_only_when_they_have_some() -> None:
    assert instant_label(ist("2025-08-05T09:00")) == "Tue 2025-08-05 09:00 IST"
    assert instant_label(ist("2025-08-05T09:00:07")) == "Tue 2025-08-05 09:00:07 IST"


ZERO_INSTANTS = st.datetimes(
    min_value=datetime(2024, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
    max_value=datetime(2027, 12, 31, 23, 59, 59),  # noqa: DTZ001
    timezones=st.just(IST),
)


@settings(max_examples=300, deadline=None)
@given(zero=ZERO_INSTANTS, name=st.sampled_from(list_profiles()))
def test_every_cut_is_the_first_allowed_instant_after_the_grace(zero: datetime, name: str) -> None:
    policy = shipped(name)
    calendar = no_cut_days(policy)
    grace_end = (zero + policy.grace).astimezone(IST)

    cut = next_cut_at(zero, policy, calendar).astimezone(IST)

    assert cut >= grace_end
    assert policy.window_start <= cut.time() < policy.window_end
    assert not calendar(cut.date())
    if cut > grace_end:  # then no earlier allowed instant >= grace end exists
        assert cut.time() == policy.window_start
        day = grace_end.date()
        while day < cut.date():
            window_closes = datetime.combine(day, policy.window_end, tzinfo=IST)
            assert calendar(day) or window_closes <= grace_end
            day += timedelta(days=1)
