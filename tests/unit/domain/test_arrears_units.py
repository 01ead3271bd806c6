"""Arrears instalments and the one rounding rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prepaidgrid.domain.arrears import (
    ArrearsPlan,
    RecoveryKind,
    instalment_paise,
    recharge_share_paise,
)
from prepaidgrid.domain.errors import InvalidAmount, InvalidTimestamp
from prepaidgrid.domain.units import (
    format_rupees,
    group_indian,
    parse_instant,
    parse_rupees,
    require_paise,
    round_half_up,
)

START = date(2025, 7, 1)


def test_3000_rupees_over_300_days_is_10_rupees_a_day() -> None:
    plan = ArrearsPlan(300_000, days=300, start_day=START)

    assert instalment_paise(plan, START, 300_000) == 1_000
    assert instalment_paise(plan, START + timedelta(days=299), 1_000) == 1_000
    assert instalment_paise(plan, START + timedelta(days=300), 0) == 0


@given(total=st.integers(1, 10**9), days=st.integers(1, 400))
def test_instalments_add_up_to_the_arrears_exactly(total: int, days: int) -> None:
    plan = ArrearsPlan(total, days=days, start_day=START)
    outstanding = total

    for n in range(days + 3):
        due = instalment_paise(plan, START + timedelta(days=n), outstanding)
        assert due >= 0
        outstanding -= due

    assert outstanding == 0


@given(amount=st.integers(1, 10**9), outstanding=st.integers(0, 10**9), bp=st.integers(1, 10_000))
def test_a_recharge_share_never_exceeds_the_recharge_or_the_arrears(
    amount: int, outstanding: int, bp: int
) -> None:
    plan = ArrearsPlan(max(outstanding, 1), RecoveryKind.RECHARGE_SHARE, share_basis_points=bp)

    share = recharge_share_paise(plan, amount, outstanding)

    assert 0 <= share <= min(amount, outstanding)


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 10, 1), (4, 10, 0), (15, 10, 2), (-5, 10, -1), (-4, 10, 0), (1500, 1000, 2)],
)
def test_rounding_is_half_away_from_zero(numerator: int, denominator: int, expected: int) -> None:
    assert round_half_up(numerator, denominator) == expected


def test_amounts_are_shown_with_lakh_and_crore_grouping() -> None:
    assert group_indian(210_000_000) == "21,00,00,000"
    assert format_rupees(1_195_400) == "₹11,954.00"
    assert format_rupees(-2_000) == "-₹20.00"


@pytest.mark.parametrize("amount", [0, -1, 1.5, "100", None, True])
def test_only_positive_whole_paise_are_amounts(amount: object) -> None:
    with pytest.raises(InvalidAmount):
        require_paise(amount)


def test_a_time_without_offset_is_read_in_india_and_garbage_is_refused() -> None:
    assert parse_instant("2025-11-10T14:00").isoformat() == "2025-11-10T08:30:00+00:00"
    with pytest.raises(InvalidTimestamp, match="not an ISO 8601"):
        parse_instant("10/11/2025 2pm")


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_typed_rupees_read_back_to_the_paise_they_show(amount_paise: int) -> None:
    shown = format_rupees(amount_paise)  # "-₹1,23,456.78"

    assert parse_rupees(shown, signed=True) == amount_paise


@pytest.mark.parametrize("typed", ["", "12.345", "1e3", "१२३", "²", "-5", "5-", "abc", "1.2.3"])
def test_anything_but_rupees_is_refused(typed: str) -> None:
    with pytest.raises(InvalidAmount, match="in rupees"):
        parse_rupees(typed)


def test_a_debit_is_typed_with_a_minus_where_one_is_allowed() -> None:
    assert parse_rupees("-150.5", signed=True) == -15_050
    assert parse_rupees("250") == 25_000
