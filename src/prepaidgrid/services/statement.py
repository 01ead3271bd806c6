"""A statement's daily explanations: the lines each day was debited by, stored or rebuilt.

A day posted on its own (`post_daily_charge`) stores its explanation lines; a day billed
by the nightly run stores only its amounts. The lines are a pure function of what both
store - the month to date before and after the day, and the tariff in force - so they are
rebuilt here exactly as the posting priced the day, and shown only when they reproduce
every stored component to the paisa: a statement never explains a day with lines that do
not add up to what was debited.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from prepaidgrid.domain.accounts import Connection
from prepaidgrid.domain.errors import DomainError
from prepaidgrid.domain.tariffs import Bill, ChargeLine, Usage, daily_charge
from prepaidgrid.domain.units import days_in_month, ist_day
from prepaidgrid.services.ports import TariffBook


@dataclass(frozen=True, slots=True)
class ChargedDay:
    """What daily_charges holds of one account-day (its explanation read back as lines)."""

    bill_day: date  # IST
    used_wh: int
    month_used_wh: int  # month to date, this day included
    max_demand_w: int  # the month's highest demand to date, this day included
    energy_paise: int
    tod_paise: int
    fixed_paise: int
    duty_paise: int
    subsidy_paise: int  # stored positive, as Bill holds it
    rebate_paise: int  # stored positive
    total_paise: int
    tariff_id: str  # the tariff version the day was priced under
    lines: tuple[ChargeLine, ...] = ()  # the stored explanation; empty when the run wrote none


@dataclass(frozen=True, slots=True)
class AccountTerms:
    """What the explanation needs of the connection."""

    discom: str
    category: str
    sanctioned_load_w: int
    migrated_at_day: date | None  # IST day prepaid billing started; None: before the month

    @classmethod
    def of(cls, connection: Connection) -> AccountTerms:
        """The terms of a connection; its prepaid start is the IST day of the migration."""
        migrated = connection.migrated_at
        return cls(
            discom=connection.discom,
            category=connection.category,
            sanctioned_load_w=connection.sanctioned_load_w,
            migrated_at_day=None if migrated is None else ist_day(migrated),
        )


def explain_days(
    days: Sequence[ChargedDay], terms: AccountTerms, tariffs: TariffBook
) -> dict[date, tuple[ChargeLine, ...]]:
    """Each charged day's explanation lines, by day: the stored ones, or the rebuilt ones
    when they reproduce the stored amounts exactly, or () when neither is at hand.

    A day's month-to-date demand before it is the highest demand stored for the charged
    days before it in its month (a day not charged, a gap, adds nothing), so pass every
    charged day of a month from its first: a month cut short at the front may leave the
    first days it holds unexplained (never wrongly explained).
    """
    explained: dict[date, tuple[ChargeLine, ...]] = {}
    demand_so_far_w: dict[date, int] = {}  # month -> its highest demand over the days seen
    for day in sorted(days, key=lambda charged: charged.bill_day):
        if day.bill_day in explained:
            raise ValueError(f"{day.bill_day.isoformat()} is charged twice in the days given")
        month = day.bill_day.replace(day=1)
        before_max_demand_w = demand_so_far_w.get(month, 0)
        demand_so_far_w[month] = max(before_max_demand_w, day.max_demand_w)
        explained[day.bill_day] = day.lines or _rebuilt_lines(
            day, before_max_demand_w, terms, tariffs
        )
    return explained


def _rebuilt_lines(
    day: ChargedDay, before_max_demand_w: int, terms: AccountTerms, tariffs: TariffBook
) -> tuple[ChargeLine, ...]:
    bill = _reprice(day, before_max_demand_w, terms, tariffs)
    if bill is None or _amounts(bill) != _stored_amounts(day):
        return ()
    return bill.lines


def _reprice(
    day: ChargedDay, before_max_demand_w: int, terms: AccountTerms, tariffs: TariffBook
) -> Bill | None:
    """The day priced as post_daily_charge prices it (and the billing run, which equals it);
    None when it cannot be: not a prepaid day, another tariff, figures the engine refuses.

    The time-of-day band energy is left empty, as both postings leave it (month-to-date
    band energy is not tracked yet): a day debited a time-of-day term will not match."""
    month = day.bill_day.replace(day=1)
    first_day = terms.migrated_at_day
    period_start = month if first_day is None else max(month, first_day)
    if day.bill_day < period_start:
        return None
    try:
        version = tariffs.in_force(terms.discom, day.bill_day)
        if version.id != day.tariff_id:
            return None
        before = Usage(
            used_wh=day.month_used_wh - day.used_wh,
            days=(day.bill_day - period_start).days,
            period_days=days_in_month(month) - (period_start - month).days,
            month=month,
            sanctioned_load_w=terms.sanctioned_load_w,
            max_demand_w=before_max_demand_w,
        )
        after = dataclasses.replace(
            before,
            used_wh=day.month_used_wh,
            days=before.days + 1,
            max_demand_w=day.max_demand_w,
        )
        return daily_charge(version.category(terms.category), before, after)
    except DomainError:  # unknown tariff or category; stored figures that go backwards
        return None


def _amounts(bill: Bill) -> tuple[int, ...]:
    return (
        bill.energy_paise,
        bill.tod_paise,
        bill.fixed_paise,
        bill.duty_paise,
        bill.subsidy_paise,
        bill.rebate_paise,
        bill.total_paise,
    )


def _stored_amounts(day: ChargedDay) -> tuple[int, ...]:
    return (
        day.energy_paise,
        day.tod_paise,
        day.fixed_paise,
        day.duty_paise,
        day.subsidy_paise,
        day.rebate_paise,
        day.total_paise,
    )
