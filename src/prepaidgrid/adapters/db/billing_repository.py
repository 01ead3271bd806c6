"""The billing run's SQL: read a partition as columns, write it as a few bulk statements.

Reads join the day's usage to the account, its two balances and the month so far. The
month so far is the previous day's charge row (its `month_used_wh` and `max_demand_w` are
month-to-date), one primary-key lookup per account; only an account whose previous day
was not billed (a gap) falls back to summing its month.

Writes, in one transaction per partition: the daily_charges rows (their primary key
(account, day) is what makes a re-run post nothing), then the postings, then the journal
row, which seals them (adapters/db/triggers.py).
"""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection as SqlConnection
from sqlalchemy import and_, exists, func, insert, select
from sqlalchemy.exc import IntegrityError

from prepaidgrid.adapters.db.bulk import day_for, insert_all, insert_new, instant_for, uuid_for
from prepaidgrid.adapters.db.repositories import (
    OUTBOX_COLUMNS,
    SqlConnections,
    SqlPayments,
    _plan_from_json,
    outbox_rows,
)
from prepaidgrid.adapters.db.tables import (
    accounts,
    daily_charges,
    daily_usage,
    journals,
    ledger_accounts,
    outbox,
    postings,
)
from prepaidgrid.domain.accounts import Connection
from prepaidgrid.domain.arrears import ArrearsPlan
from prepaidgrid.domain.ledger import (
    DUTY_PAYABLE,
    REBATE_EXPENSE,
    REVENUE_ENERGY,
    REVENUE_FIXED,
    SUBSIDY_RECEIVABLE,
    JournalKind,
    arrears,
    wallet,
)
from prepaidgrid.services.ports import AlreadyBilled, BillingInputs, PostedBatch, SupplyEffects

CHARGE_COLUMNS = (
    "account_id",
    "bill_day",
    "used_wh",
    "month_used_wh",
    "max_demand_w",
    "energy_paise",
    "subsidy_paise",
    "rebate_paise",
    "tod_paise",
    "fixed_paise",
    "duty_paise",
    "total_paise",
    "instalment_paise",
    "tariff_id",
    "posted_at",
    "journal_id",
)


class SqlBulkBilling:
    def __init__(self, connection: SqlConnection) -> None:
        self._db = connection

    def unbilled_accounts(self, day: date) -> list[str]:
        rows = self._db.execute(
            select(daily_usage.c.account_id)
            .join(accounts, accounts.c.account_id == daily_usage.c.account_id)
            .where(
                daily_usage.c.usage_day == day,
                accounts.c.migrated_at.is_not(None),
                ~exists().where(
                    daily_charges.c.account_id == daily_usage.c.account_id,
                    daily_charges.c.bill_day == day,
                ),
            )
            .order_by(daily_usage.c.account_id)
        ).scalars()
        return list(rows)

    def connections_of(self, account_ids: list[str]) -> dict[str, Connection]:
        return SqlConnections(self._db).get_many(account_ids)

    def pending_paise_of(self, account_ids: list[str]) -> dict[str, int]:
        return SqlPayments(self._db).pending_paise_of(account_ids)

    def apply_supply_effects(self, effects: list[SupplyEffects]) -> None:
        SqlConnections(self._db).save_supplies(
            [(e.change, e.snapshot) for e in effects if e.change is not None]
        )
        messages = [m for e in effects for m in e.messages]
        if messages:
            insert_new(self._db, outbox, OUTBOX_COLUMNS, outbox_rows(self._db, messages))

    def estimated_accounts(self, first_day: date, last_day: date) -> list[str]:
        rows = self._db.execute(
            select(daily_usage.c.account_id)
            .distinct()
            .join(
                daily_charges,
                and_(
                    daily_charges.c.account_id == daily_usage.c.account_id,
                    daily_charges.c.bill_day == daily_usage.c.usage_day,
                ),
            )
            .where(
                daily_usage.c.usage_day >= first_day,
                daily_usage.c.usage_day <= last_day,
                daily_usage.c.method.in_(("average", "fallback")),
            )
            .order_by(daily_usage.c.account_id)
        ).scalars()
        return list(rows)

    def billed_days(self, account_id: str, first_day: date, last_day: date) -> set[date]:
        return set(
            self._db.execute(
                select(daily_charges.c.bill_day).where(
                    daily_charges.c.account_id == account_id,
                    daily_charges.c.bill_day >= first_day,
                    daily_charges.c.bill_day <= last_day,
                )
            ).scalars()
        )

    def month_max_demand_w(self, account_id: str, first_day: date, last_day: date) -> int:
        return int(
            self._db.execute(
                select(func.coalesce(func.max(daily_charges.c.max_demand_w), 0)).where(
                    daily_charges.c.account_id == account_id,
                    daily_charges.c.bill_day >= first_day,
                    daily_charges.c.bill_day <= last_day,
                )
            ).scalar_one()
        )

    def latest_billed_day(self) -> date | None:
        latest: date | None = self._db.execute(select(func.max(daily_charges.c.bill_day))).scalar()
        return latest

    def prepaid_without_usage(self, day: date) -> int:
        return int(
            self._db.execute(
                select(func.count()).where(
                    accounts.c.migrated_at.is_not(None),
                    ~exists().where(
                        daily_usage.c.account_id == accounts.c.account_id,
                        daily_usage.c.usage_day == day,
                    ),
                )
            ).scalar_one()
        )

    def partition_inputs(self, day: date, first_id: str, last_id: str) -> BillingInputs:
        """One statement, plain SQL, straight to the driver: at a million accounts a night,
        SQLAlchemy's per-value result processing cost more than the query."""
        month = day.replace(day=1)
        previous = day - timedelta(days=1)
        sqlite = self._db.dialect.name == "sqlite"
        mark = "?" if sqlite else "%s"
        first_day = (
            "CAST(julianday(date(a.migrated_at, '+330 minutes')) - 1721424.5 AS INTEGER)"
            if sqlite
            else "((a.migrated_at AT TIME ZONE 'Asia/Kolkata')::date - DATE '0001-01-01' + 1)"
        )
        sql = f"""
            SELECT a.account_id, a.category, a.discom, a.arrears_plan,
                   {first_day}, a.sanctioned_load_w, u.used_wh, u.max_demand_w,
                   COALESCE(b.month_used_wh, -1), COALESCE(b.max_demand_w, 0)
              FROM daily_usage u
              JOIN accounts a ON a.account_id = u.account_id
              LEFT JOIN daily_charges b
                ON b.account_id = u.account_id AND b.bill_day = {mark}
             WHERE u.usage_day = {mark} AND u.account_id >= {mark} AND u.account_id <= {mark}
               AND a.migrated_at IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM daily_charges c
                                WHERE c.account_id = u.account_id AND c.bill_day = {mark})
             ORDER BY u.account_id
        """
        the_day = day_for(self._db)
        rows = self._db.exec_driver_sql(
            sql, (the_day(previous), the_day(day), first_id, last_id, the_day(day))
        ).all()
        if not rows:
            columns: list[tuple[Any, ...]] = [()] * 10
        else:
            columns = list(zip(*rows, strict=True))
        (
            ids,
            categories,
            discoms,
            plans_json,
            first_days,
            loads,
            used,
            demand,
            mtd_used,
            mtd_demand,
        ) = columns
        mtd_used_wh = _ints(mtd_used)
        mtd_demand_w = _ints(mtd_demand)
        if previous < month:  # the first of the month: nothing before it
            mtd_used_wh[:] = 0
            mtd_demand_w[:] = 0
        else:
            gaps = np.flatnonzero(mtd_used_wh < 0).tolist()
            mtd_used_wh[gaps] = 0
            if gaps:
                self._sum_months(
                    [ids[i] for i in gaps], gaps, month, day, mtd_used_wh, mtd_demand_w
                )
        plans: dict[int, ArrearsPlan] = {}
        for row, data in enumerate(plans_json):
            if data:
                plan = _plan_from_json(json.loads(data) if isinstance(data, str) else data)
                if plan is not None:
                    plans[row] = plan
        return BillingInputs(
            account_ids=list(ids),
            categories=list(categories),
            discoms=list(discoms),
            first_day_ordinals=_ints(first_days),
            sanctioned_load_w=_ints(loads),
            used_wh=_ints(used),
            max_demand_w=_ints(demand),
            mtd_used_wh=mtd_used_wh,
            mtd_max_demand_w=mtd_demand_w,
            arrears_plans=plans,
        )

    def lock_partition(self, first_id: str, last_id: str) -> None:
        if self._db.dialect.name == "sqlite":
            return  # BEGIN IMMEDIATE already holds the only write lock
        self._db.exec_driver_sql(
            "SELECT 1 FROM accounts WHERE account_id >= %s AND account_id <= %s "
            "ORDER BY account_id FOR UPDATE",
            (first_id, last_id),
        )

    def arrears_paise_of(self, account_ids: list[str]) -> dict[str, int]:
        if not account_ids:
            return {}
        codes = {arrears(account_id): account_id for account_id in account_ids}
        rows = self._db.execute(
            select(ledger_accounts.c.code, ledger_accounts.c.balance_paise).where(
                ledger_accounts.c.code.in_(list(codes))
            )
        )
        return {codes[code]: int(balance) for code, balance in rows}

    def charged_at_zero(self, day: date, first_id: str, last_id: str) -> list[str]:
        # 'wallet:' + id sorts as the ids do: the wallets are one range of the primary key.
        mark = "?" if self._db.dialect.name == "sqlite" else "%s"
        sql = f"""
            SELECT a.account_id
              FROM ledger_accounts w
              JOIN accounts a ON a.account_id = w.account_id
              JOIN daily_charges c ON c.account_id = a.account_id AND c.bill_day = {mark}
             WHERE w.code >= {mark} AND w.code <= {mark} AND w.kind = 'wallet'
               AND w.balance_paise <= 0 AND a.supply_state = 'connected'
             ORDER BY a.account_id
        """
        rows = self._db.exec_driver_sql(
            sql, (day_for(self._db)(day), wallet(first_id), wallet(last_id))
        )
        return [account_id for (account_id,) in rows]

    def _sum_months(
        self,
        account_ids: list[str],
        rows: list[int],
        month: date,
        day: date,
        used: np.ndarray[Any, Any],
        demand: np.ndarray[Any, Any],
    ) -> None:
        """The month so far of accounts whose previous day has no charge row."""
        sums = {
            r.account_id: r
            for r in self._db.execute(
                select(
                    daily_charges.c.account_id,
                    func.sum(daily_charges.c.used_wh).label("used_wh"),
                    func.max(daily_charges.c.max_demand_w).label("max_demand_w"),
                )
                .where(
                    daily_charges.c.account_id.in_(account_ids),
                    daily_charges.c.bill_day >= month,
                    daily_charges.c.bill_day < day,
                )
                .group_by(daily_charges.c.account_id)
            )
        }
        for row, account_id in zip(rows, account_ids, strict=True):
            found = sums.get(account_id)
            if found is not None:
                used[row], demand[row] = int(found.used_wh), int(found.max_demand_w)

    def write_partition(self, batch: PostedBatch) -> None:
        if not batch.account_ids:
            return
        journal_id = uuid.uuid4()
        lines = _postings(batch)
        day, instant, uid = day_for(self._db), instant_for(self._db), uuid_for(self._db)
        stored_id = uid(journal_id) if lines else None
        bill_day, posted_at = day(batch.day), instant(batch.posted_at)
        count = len(batch.account_ids)
        columns = zip(
            batch.account_ids,
            [bill_day] * count,
            batch.used_wh.tolist(),
            batch.month_used_wh.tolist(),
            batch.max_demand_w.tolist(),
            batch.energy_paise.tolist(),
            batch.subsidy_paise.tolist(),
            batch.rebate_paise.tolist(),
            batch.tod_paise.tolist(),
            batch.fixed_paise.tolist(),
            batch.duty_paise.tolist(),
            batch.total_paise.tolist(),
            batch.instalment_paise.tolist(),
            batch.tariff_ids,
            [posted_at] * count,
            [stored_id] * count,
            strict=True,
        )
        try:
            insert_all(self._db, daily_charges, CHARGE_COLUMNS, list(columns))
        except IntegrityError as error:
            if _is_duplicate_charge(error):
                raise AlreadyBilled(str(error.orig)) from error
            raise
        if not lines:
            return  # a partition that costs nothing: its days are billed at zero
        insert_all(
            self._db,
            postings,
            ("journal_id", "ledger_account", "amount_paise"),
            [(stored_id, code, amount) for code, amount in lines],
        )
        self._db.execute(
            insert(journals).values(
                id=journal_id,
                idempotency_key=batch.journal_key,
                kind=JournalKind.CHARGE_RUN.value,
                account_id=None,
                posted_at=batch.posted_at,
                memo=f"charges for {batch.day.isoformat()}: {count} accounts",
            )
        )


def _is_duplicate_charge(error: IntegrityError) -> bool:
    text = str(error.orig)
    return ("UNIQUE constraint failed: daily_charges" in text) or ("pk_daily_charges" in text)


def _ints(values: tuple[Any, ...]) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.array(values, dtype=np.int64)


def _postings(batch: PostedBatch) -> list[tuple[str, int]]:
    """The consumer side per account, the utility's side summed (a balanced whole)."""
    lines: list[tuple[str, int]] = [
        (wallet(account_id), -total)
        for account_id, total in zip(batch.account_ids, batch.total_paise.tolist(), strict=True)
        if total
    ]
    for account_id, instalment in zip(
        batch.account_ids, batch.instalment_paise.tolist(), strict=True
    ):
        if instalment:
            lines += [(wallet(account_id), -instalment), (arrears(account_id), instalment)]
    utility = {
        SUBSIDY_RECEIVABLE: -int(batch.subsidy_paise.sum()),
        REBATE_EXPENSE: -int(batch.rebate_paise.sum()),
        REVENUE_ENERGY: int(batch.energy_paise.sum() + batch.tod_paise.sum()),
        REVENUE_FIXED: int(batch.fixed_paise.sum()),
        DUTY_PAYABLE: int(batch.duty_paise.sum()),
    }
    lines += [(code, amount) for code, amount in utility.items() if amount]
    if sum(amount for _, amount in lines) != 0:  # the kernel's identity, checked once more
        raise ValueError(f"batch {batch.journal_key} does not balance")
    return lines
