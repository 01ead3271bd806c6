"""Post one account's charges for one day: energy, fixed, duty, rebate, subsidy, arrears."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime

from prepaidgrid.domain.arrears import instalment_paise
from prepaidgrid.domain.errors import DuplicateJournal, InvalidTransition, InvalidUsage
from prepaidgrid.domain.ledger import ChargeAmounts, charge_journal, instalment_journal
from prepaidgrid.domain.supply import SupplyState
from prepaidgrid.domain.tariffs import Bill, Usage, daily_charge
from prepaidgrid.domain.units import days_in_month, ist_day
from prepaidgrid.services.ports import Clock, DailyCharge, PolicyBook, TariffBook, UnitOfWork
from prepaidgrid.services.supply import settle_supply


@dataclass(frozen=True, slots=True)
class PostDailyCharge:
    account_id: str
    bill_day: date  # IST day being billed
    used_wh: int
    max_demand_w: int = 0


@dataclass(frozen=True, slots=True)
class ChargeResult:
    account_id: str
    bill_day: date
    is_new: bool
    total_paise: int
    instalment_paise: int
    balance_paise: int
    supply_state: SupplyState
    bill: Bill | None = None


def post_daily_charge(
    cmd: PostDailyCharge,
    uow: UnitOfWork,
    clock: Clock,
    tariffs: TariffBook,
    policies: PolicyBook,
) -> ChargeResult:
    """Debit one account-day exactly once (key `charge:{account}:{day}`).

    The day is priced as the difference of month-to-date bills, so the month's days add
    up to the monthly bill exactly and slabs are crossed on the right day.
    """
    if cmd.used_wh < 0 or cmd.max_demand_w < 0:
        raise InvalidUsage(f"consumption must not be negative, got {cmd.used_wh} Wh")
    at = clock.now()
    try:
        with uow:
            connection = uow.connections.lock(cmd.account_id)
            if uow.charges.has(cmd.account_id, cmd.bill_day):
                return _already_posted(connection.wallet_paise, connection.supply.state, cmd)
            month = cmd.bill_day.replace(day=1)
            first_day = _first_billable_day(connection.migrated_at, cmd)
            period_start = max(month, first_day)
            mtd = uow.charges.month_to_date(cmd.account_id, month, before=cmd.bill_day)
            version = tariffs.in_force(connection.discom, cmd.bill_day)
            category = version.category(connection.category)
            before = Usage(
                used_wh=mtd.used_wh,
                days=(cmd.bill_day - period_start).days,
                # The first month's period is the days in service (free units pro-rate on it).
                period_days=days_in_month(month) - (period_start - month).days,
                month=month,
                sanctioned_load_w=connection.sanctioned_load_w,
                max_demand_w=mtd.max_demand_w,
            )
            after = dataclasses.replace(
                before,
                used_wh=mtd.used_wh + cmd.used_wh,
                days=before.days + 1,
                max_demand_w=max(mtd.max_demand_w, cmd.max_demand_w),
            )
            bill = daily_charge(category, before, after)
            journal = charge_journal(
                cmd.account_id,
                cmd.bill_day,
                ChargeAmounts(
                    bill.energy_paise,
                    bill.subsidy_paise,
                    bill.rebate_paise,
                    bill.tod_paise,
                    bill.fixed_paise,
                    bill.duty_paise,
                    bill.total_paise,
                ),
                at,
            )
            if journal is not None:
                uow.ledger.add(journal)
            instalment = 0
            if connection.arrears_plan is not None:
                instalment = instalment_paise(
                    connection.arrears_plan, cmd.bill_day, connection.outstanding_arrears_paise
                )
                if instalment:
                    uow.ledger.add(instalment_journal(cmd.account_id, cmd.bill_day, instalment, at))
            uow.charges.add(
                DailyCharge(
                    account_id=cmd.account_id,
                    bill_day=cmd.bill_day,
                    used_wh=cmd.used_wh,
                    month_used_wh=after.used_wh,
                    max_demand_w=after.max_demand_w,
                    energy_paise=bill.energy_paise,
                    subsidy_paise=bill.subsidy_paise,
                    rebate_paise=bill.rebate_paise,
                    tod_paise=bill.tod_paise,
                    fixed_paise=bill.fixed_paise,
                    duty_paise=bill.duty_paise,
                    total_paise=bill.total_paise,
                    instalment_paise=instalment,
                    tariff_id=version.id,
                    explanation=tuple(
                        {
                            "code": line.code,
                            "label": line.label,
                            "label_hi": line.label_hi,
                            "amount_paise": line.amount_paise,
                            "quantity_wh": line.quantity_wh,
                            "rate_paise_per_kwh": line.rate_paise_per_kwh,
                        }
                        for line in bill.lines
                    ),
                    posted_at=at,
                )
            )
            balance = connection.wallet_paise - bill.total_paise - instalment
            decision = settle_supply(uow, connection, balance, at, policies)
            uow.commit()
    except DuplicateJournal:
        with uow:
            connection = uow.connections.get(cmd.account_id)
        return _already_posted(connection.wallet_paise, connection.supply.state, cmd)
    return ChargeResult(
        cmd.account_id,
        cmd.bill_day,
        True,
        bill.total_paise,
        instalment,
        balance,
        decision.state,
        bill,
    )


def _first_billable_day(migrated_at: datetime | None, cmd: PostDailyCharge) -> date:
    """Prepaid billing starts on the IST day the smart meter was installed."""
    if migrated_at is None:
        raise InvalidTransition(f"account {cmd.account_id} has no smart prepaid meter yet")
    first_day = ist_day(migrated_at)
    if cmd.bill_day < first_day:
        raise InvalidUsage(
            f"account {cmd.account_id} became prepaid on {first_day.isoformat()}: "
            f"{cmd.bill_day.isoformat()} cannot be billed as a prepaid day"
        )
    return first_day


def _already_posted(balance_paise: int, state: SupplyState, cmd: PostDailyCharge) -> ChargeResult:
    return ChargeResult(cmd.account_id, cmd.bill_day, False, 0, 0, balance_paise, state)
