"""Recharge habits: early, late, never and counter-only payers."""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from prepaidgrid.domain.ledger import PaymentChannel
from prepaidgrid.domain.units import IST
from prepaidgrid.simulator.recharge_habits import Recharge, RechargeHabit, decide_recharge

TUESDAY_NOON = datetime(2021, 9, 7, 12, 0, tzinfo=IST)
DAILY = 40_00  # ₹40 a day


def _decide(
    habit: RechargeHabit,
    balance_paise: int,
    *,
    is_disconnected: bool = False,
    at: datetime = TUESDAY_NOON,
    seed: int = 1,
) -> Recharge | None:
    return decide_recharge(
        habit,
        balance_paise=balance_paise,
        daily_spend_paise=DAILY,
        is_disconnected=is_disconnected,
        at=at,
        rng=random.Random(seed),
    )


def test_an_early_payer_tops_up_with_a_week_left_and_not_before() -> None:
    assert _decide(RechargeHabit.EARLY, 8 * DAILY) is None

    recharge = _decide(RechargeHabit.EARLY, 6 * DAILY)

    assert recharge == Recharge(1_200_00, PaymentChannel.APP)  # 30 days, whole ₹100s


def test_nobody_recharges_by_app_in_the_middle_of_the_night() -> None:
    three_am = datetime(2021, 9, 7, 3, 0, tzinfo=IST)

    assert _decide(RechargeHabit.EARLY, 0, at=three_am) is None


def test_a_late_payer_waits_for_the_cut_and_pays_off_what_is_owed() -> None:
    assert not any(_decide(RechargeHabit.LATE, -50_00, seed=s) for s in range(50))

    recharges = [
        _decide(RechargeHabit.LATE, -50_00, is_disconnected=True, seed=s) for s in range(50)
    ]

    paid = [r for r in recharges if r is not None]
    assert 5 <= len(paid) <= 25  # noticed after a while, not at once
    assert all(r.amount_paise >= 50_00 + 7 * DAILY for r in paid)
    assert all(r.amount_paise % 50_00 == 0 for r in paid)


def test_a_consumer_who_stopped_paying_never_recharges() -> None:
    assert _decide(RechargeHabit.NEVER, -1_000_00, is_disconnected=True) is None


@pytest.mark.parametrize(
    ("at", "pays"),
    [
        (datetime(2021, 9, 7, 9, 59, tzinfo=IST), False),
        (datetime(2021, 9, 7, 10, 0, tzinfo=IST), True),
        (datetime(2021, 9, 7, 16, 59, tzinfo=IST), True),
        (datetime(2021, 9, 7, 17, 0, tzinfo=IST), False),
        (datetime(2021, 9, 12, 12, 0, tzinfo=IST), False),  # Sunday: counters shut
    ],
)
def test_a_counter_payer_pays_in_counter_hours_only(at: datetime, pays: bool) -> None:
    recharge = _decide(RechargeHabit.COUNTER_ONLY, 2 * DAILY, at=at)

    assert (recharge is not None) is pays
    if recharge is not None:
        assert recharge.channel is PaymentChannel.COUNTER
        assert recharge.amount_paise % 500_00 == 0
