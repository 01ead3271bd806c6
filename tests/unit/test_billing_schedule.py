"""When the nightly run is due, and which days it bills."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from prepaidgrid.domain.errors import DomainError
from prepaidgrid.domain.units import IST
from prepaidgrid.services.billing_run import MAX_CATCH_UP_DAYS, days_due, is_nightly_due

assert MAX_CATCH_UP_DAYS < 90


def test_a_platform_that_never_billed_bills_yesterday() -> None:
    assert days_due(None, date(2025, 7, 9)) == [date(2025, 7, 9)]


def test_missed_nights_are_billed_one_day_at_a_time_oldest_first() -> None:
    assert days_due(date(2025, 7, 6), date(2025, 7, 9)) == [
        date(2025, 7, 7),
        date(2025, 7, 8),
        date(2025, 7, 9),
    ]


def test_nothing_is_due_when_yesterday_is_billed() -> None:
    assert days_due(date(2025, 7, 9), date(2025, 7, 9)) == []


def test_a_gap_longer_than_the_limit_waits_for_an_operator() -> None:
    with pytest.raises(DomainError, match="prepaidgrid bill"):
        days_due(date(2025, 1, 1), date(2025, 4, 1))  # 90 days behind


def test_the_run_is_due_from_half_past_midnight_ist_once_a_day() -> None:
    before = datetime(2025, 7, 10, 0, 29, tzinfo=IST)
    after = datetime(2025, 7, 10, 0, 30, tzinfo=IST)
    assert not is_nightly_due(before, date(2025, 7, 8))
    assert is_nightly_due(after, date(2025, 7, 8))
    assert is_nightly_due(after, None)
    assert not is_nightly_due(after, date(2025, 7, 9))
