"""Recovering a converted consumer's postpaid arrears: daily instalments or a share of recharges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.units import round_half_up


class RecoveryKind(StrEnum):
    DAILY_INSTALMENTS = "daily_instalments"
    RECHARGE_SHARE = "recharge_share"


@dataclass(frozen=True, slots=True)
class ArrearsPlan:
    """How one account's arrears are recovered. Bihar: daily instalments over 300 days."""

    total_paise: int  # the arrears migrated, positive
    kind: RecoveryKind = RecoveryKind.DAILY_INSTALMENTS
    days: int = 300
    share_basis_points: int = 0  # for RECHARGE_SHARE: 2500 = 25% of every recharge
    start_day: date | None = None  # first instalment day (IST)

    def __post_init__(self) -> None:
        if self.total_paise <= 0:
            raise InvalidInput("an arrears plan needs a positive amount")
        if self.kind is RecoveryKind.DAILY_INSTALMENTS and self.days <= 0:
            raise InvalidInput("instalments need a positive number of days")
        if self.kind is RecoveryKind.RECHARGE_SHARE and not 0 < self.share_basis_points <= 10000:
            raise InvalidInput("the recharge share must be between 0.01% and 100%")


def instalment_paise(plan: ArrearsPlan, bill_day: date, outstanding_paise: int) -> int:
    """The instalment due on `bill_day`, never more than what is still outstanding.

    Instalments are differences of a rounded cumulative schedule, so they add up to the
    arrears exactly: ₹3,000 over 300 days is ₹10.00 a day, ₹10 over 3 days is 3.33, 3.34, 3.33.
    """
    if plan.kind is not RecoveryKind.DAILY_INSTALMENTS or plan.start_day is None:
        return 0
    n = (bill_day - plan.start_day).days + 1
    if n < 1 or n > plan.days:
        return 0
    due = round_half_up(plan.total_paise * n, plan.days) - round_half_up(
        plan.total_paise * (n - 1), plan.days
    )
    return max(0, min(due, outstanding_paise))


def recharge_share_paise(
    plan: ArrearsPlan | None, amount_paise: int, outstanding_paise: int
) -> int:
    """The part of a recharge that goes to arrears under a recharge-share plan."""
    if plan is None or plan.kind is not RecoveryKind.RECHARGE_SHARE or outstanding_paise <= 0:
        return 0
    share = round_half_up(amount_paise * plan.share_basis_points, 10000)
    return min(share, outstanding_paise, amount_paise)
