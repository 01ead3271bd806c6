"""Month-end true-up: days billed on estimates are settled against the real reads.

    after a month is billed: accounts with estimated days in it --> for each, the register
    reads of its meter --> domain true_up_estimates (measured energy between the midnights
    now known, given to the estimated days exactly) --> the month re-priced on the settled
    energy --> ONE journal with the difference (a debit, or a credit for an estimate that
    was too high), the days stored as settled, supply settled on the new balance

A month is priced month-to-date, so what the consumer has been charged for it is the
tariff's price of the energy billing holds for the month (the daily usage rows: estimates,
or values already settled). A true-up posts price(energy held + corrections) - price(energy
held), component by component, under the key `trueup:{account}:{first day}:{last day}`, and
stores the days as settled in the same transaction, so running it again finds nothing to do.
A later true-up of the same month (reads for other estimated days arriving later) prices
from the energy the first one left.

Accounts whose meter changed during the month are left for a later version (skipped with
the reason `meter_swap`): their registers need the swap's final reads stitched in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from prepaidgrid.domain.errors import DomainError
from prepaidgrid.domain.ledger import ChargeAmounts, true_up_journal
from prepaidgrid.domain.meterdata import DEFAULT_VEE, DailyUsage, VeeSettings
from prepaidgrid.domain.meterdata.trueup import day_corrections, true_up_estimates
from prepaidgrid.domain.tariffs import Usage, bill_to_date
from prepaidgrid.domain.units import days_in_month, ist_day, ist_midnight
from prepaidgrid.services.ports import (
    BillingUnitOfWork,
    Clock,
    DailyUsageRow,
    PolicyBook,
    TariffBook,
)
from prepaidgrid.services.supply import settle_supply


@dataclass
class TrueUpRun:
    month: date
    accounts: int = 0  # with estimated, billed days in the month
    trued_up: int = 0  # accounts with at least one day settled
    days_settled: int = 0
    debited_paise: int = 0
    credited_paise: int = 0
    still_estimated: int = 0  # accounts whose reads do not yet cover any estimated day
    skipped: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)

    def skip(self, reason: str, example: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        self.examples.setdefault(reason, example)

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["month"] = self.month.strftime("%Y-%m")
        return data


def true_up_month(
    month: date,
    new_uow: Callable[[], BillingUnitOfWork],
    clock: Clock,
    tariffs: TariffBook,
    policies: PolicyBook,
    settings: VeeSettings = DEFAULT_VEE,
) -> TrueUpRun:
    """True up every account's estimated days of `month` that the reads now cover."""
    month = month.replace(day=1)
    last_day = month + timedelta(days=days_in_month(month) - 1)
    run = TrueUpRun(month)
    with new_uow() as uow:
        account_ids = uow.billing.estimated_accounts(month, last_day)
    run.accounts = len(account_ids)
    for account_id in account_ids:
        try:
            _true_up_account(run, account_id, last_day, new_uow, clock, tariffs, policies, settings)
        except DomainError as error:
            run.skip(type(error).__name__, f"{account_id}: {error}")
    return run


def _true_up_account(
    run: TrueUpRun,
    account_id: str,
    last_day: date,
    new_uow: Callable[[], BillingUnitOfWork],
    clock: Clock,
    tariffs: TariffBook,
    policies: PolicyBook,
    settings: VeeSettings,
) -> None:
    month = run.month
    with new_uow() as uow:
        connection = uow.connections.lock(account_id)
        rows = uow.meter_data.daily_usage_of(account_id, month, last_day)
        billed = uow.billing.billed_days(account_id, month, last_day)
        held = [row for row in rows if row.usage_day in billed]
        if len({row.meter_id for row in held}) > 1:
            run.skip("meter_swap", f"{account_id}: meters {sorted({r.meter_id for r in held})}")
            return
        if not held or connection.migrated_at is None:
            return
        reads = uow.meter_data.register_reads(
            [held[0].meter_id],
            ist_midnight(held[0].usage_day) - settings.midnight_tolerance,
            ist_midnight(held[-1].usage_day + timedelta(days=1)) + settings.midnight_tolerance,
        )
        true_ups = true_up_estimates(map(_usage, held), reads, settings)
        corrections = day_corrections(true_ups)
        if not corrections:
            run.still_estimated += 1
            return
        at = clock.now()
        version = tariffs.in_force(connection.discom, held[-1].usage_day)
        tariff = version.category(connection.category)
        period_start = max(month, ist_day(connection.migrated_at))
        period_days = days_in_month(month) - (period_start - month).days
        days = (held[-1].usage_day - period_start).days + 1
        demand_w = uow.billing.month_max_demand_w(account_id, month, last_day)
        held_wh = sum(row.used_wh for row in held)
        corrected_wh = held_wh + sum(c.correction_wh for c in corrections)
        usage = Usage(
            used_wh=held_wh,
            days=days,
            period_days=period_days,
            month=month,
            sanctioned_load_w=connection.sanctioned_load_w,
            max_demand_w=demand_w,
        )
        before = bill_to_date(tariff, usage)
        after = bill_to_date(tariff, dataclasses.replace(usage, used_wh=corrected_wh))
        amounts = ChargeAmounts(
            after.energy_paise - before.energy_paise,
            after.subsidy_paise - before.subsidy_paise,
            after.rebate_paise - before.rebate_paise,
            after.tod_paise - before.tod_paise,
            after.fixed_paise - before.fixed_paise,
            after.duty_paise - before.duty_paise,
            after.total_paise - before.total_paise,
        )
        journal = true_up_journal(
            account_id, corrections[0].day, corrections[-1].day, amounts, corrected_wh, at
        )
        if journal is not None:
            uow.ledger.add(journal)
        by_day = {row.usage_day: row for row in held}
        uow.meter_data.put_daily_usage(
            [
                dataclasses.replace(
                    by_day[day.day],
                    used_wh=day.used_wh,
                    method=day.method,
                    opening_wh=day.opening_wh,
                    closing_wh=day.closing_wh,
                    note=day.note,
                    computed_at=at,
                )
                for up in true_ups
                for day in up.settled()
            ]
        )
        balance = connection.wallet_paise - amounts.total_paise
        settle_supply(uow, connection, balance, at, policies)
        uow.commit()
    run.trued_up += 1
    run.days_settled += len(corrections)
    if amounts.total_paise > 0:
        run.debited_paise += amounts.total_paise
    else:
        run.credited_paise -= amounts.total_paise


def _usage(row: DailyUsageRow) -> DailyUsage:
    return DailyUsage(
        row.usage_day, row.used_wh, row.method, row.opening_wh, row.closing_wh, row.note
    )
