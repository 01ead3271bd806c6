"""How simulated consumers top up: early, late (after the cut), never, or only at a counter.

The orchestrator asks `decide_recharge` at each simulated step with the account's state;
the answer is a recharge to apply, or None. Amounts are whole rupees, as people pay.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from prepaidgrid.domain.ledger import PaymentChannel
from prepaidgrid.domain.units import IST, require_utc

EARLY_DAYS_LEFT = 7  # an early payer tops up when the balance covers about a week
COUNTER_DAYS_LEFT = 3  # a counter payer goes when it covers a few days, or after a cut
COUNTER_OPENS, COUNTER_CLOSES = time(10), time(17)  # cash counters, Monday to Saturday
APP_HOURS = (time(7), time(22))  # nobody recharges by app at 3 a.m.
LATE_CHANCE_PER_CALL = 0.25  # a late payer notices the cut after a while, not at once
MIN_RECHARGE_PAISE = 100_00


class RechargeHabit(StrEnum):
    EARLY = "early"  # recharges by app when about 7 days of credit are left
    LATE = "late"  # recharges by app only after the supply is cut
    NEVER = "never"  # has stopped recharging (moved out, disputes the bill, cannot pay)
    COUNTER_ONLY = "counter_only"  # no smartphone: pays cash at a counter, 10:00-17:00


@dataclass(frozen=True, slots=True)
class Recharge:
    amount_paise: int
    channel: PaymentChannel


def decide_recharge(
    habit: RechargeHabit,
    *,
    balance_paise: int,
    daily_spend_paise: int,
    is_disconnected: bool,
    at: datetime,
    rng: random.Random,
) -> Recharge | None:
    """Whether this consumer recharges at `at`, and how much.

    `daily_spend_paise` is the consumer's typical day (energy and fixed charges); a
    negative balance (arrears, or use during the grace day) is always paid off first.
    """
    local = require_utc(at).astimezone(IST)
    owed = max(0, -balance_paise)
    daily = max(daily_spend_paise, 0)
    in_app_hours = APP_HOURS[0] <= local.time() < APP_HOURS[1]
    if habit is RechargeHabit.EARLY:
        if in_app_hours and balance_paise < EARLY_DAYS_LEFT * daily:
            return Recharge(_rupees(owed + 30 * daily, step=100_00), PaymentChannel.APP)
    elif habit is RechargeHabit.LATE:
        if in_app_hours and is_disconnected and rng.random() < LATE_CHANCE_PER_CALL:
            days = rng.randint(7, 20)
            return Recharge(_rupees(owed + days * daily, step=50_00), PaymentChannel.APP)
    elif habit is RechargeHabit.COUNTER_ONLY:
        is_open = local.weekday() < 6 and COUNTER_OPENS <= local.time() < COUNTER_CLOSES
        is_due = is_disconnected or balance_paise < COUNTER_DAYS_LEFT * daily
        if is_open and is_due:
            return Recharge(_rupees(owed + 20 * daily, step=500_00), PaymentChannel.COUNTER)
    return None


def _rupees(amount_paise: int, *, step: int) -> int:
    """Rounded up to a sum people hand over (₹50, ₹100, ₹500), at least ₹100."""
    return max(MIN_RECHARGE_PAISE, -(-amount_paise // step) * step)
