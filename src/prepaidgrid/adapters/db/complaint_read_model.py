"""Complaints in SQL, read side: the records a diagnosis reads (in the complaint's own
transaction), and the officers' complaint list, scoped to their divisions.

The similar households' median is one set-based query on both databases: each day's
uses of the peer accounts are ranked by a window function and the middle one or two kept
(`rn IN ((n + 1) / 2, (n + 2) / 2)`, integer division), so no household is read in Python.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection as SqlConnection
from sqlalchemy import RowMapping, and_, func, literal, or_, select

from prepaidgrid.adapters.db.consumer_read_models import SqlConsumerPortal
from prepaidgrid.adapters.db.officer_read_models import SqlOfficerDesk
from prepaidgrid.adapters.db.payment_read_models import SqlPaymentHistory, _ReadModel
from prepaidgrid.adapters.db.tables import (
    accounts,
    complaints,
    contact_changes,
    daily_usage,
    ledger_accounts,
    org_units,
    outbox,
    payment_orders,
    payments,
    supply_changes,
)
from prepaidgrid.domain.complaint_diagnosis import (
    CommandFinding,
    ContactFinding,
    SupplyFinding,
    load_band,
)
from prepaidgrid.domain.complaints import (
    OPEN_STATUSES,
    Complaint,
    ComplaintCategory,
    ComplaintStatus,
)
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef, wallet
from prepaidgrid.domain.units import ist_day, round_half_up
from prepaidgrid.services.complaint_desk import AccountFacts
from prepaidgrid.services.statement import ChargedDay

_sub = org_units.alias("sub")


class SqlComplaintFacts:
    """`services.complaint_desk.ComplaintFacts` in SQL, on the unit of work's connection."""

    def __init__(self, connection: SqlConnection) -> None:
        self._db = connection

    def account_facts(self, account_id: str) -> AccountFacts | None:
        a = accounts.c
        row = self._db.execute(
            select(
                a.account_id,
                a.discom,
                a.category,
                a.sanctioned_load_w,
                a.supply_profile,
                a.migrated_at,
                _sub.c.parent_code,
            )
            .select_from(accounts.outerjoin(_sub, _sub.c.code == a.subdivision_code))
            .where(a.account_id == account_id)
        ).first()
        if row is None:
            return None
        return AccountFacts(
            row.account_id,
            row.discom,
            row.category,
            int(row.sanctioned_load_w),
            row.parent_code,
            row.supply_profile,
            row.migrated_at,
        )

    def payment_history(self) -> SqlPaymentHistory:
        return SqlPaymentHistory(self._db)

    def payment_refs(self, account_id: str, reference: str | None, limit: int) -> list[PaymentRef]:
        p = payments.c
        query = select(p.channel, p.reference).where(p.account_id == account_id)
        if reference is not None:
            orders = select(payment_orders.c.order_id).where(
                payment_orders.c.account_id == account_id,
                or_(
                    payment_orders.c.order_id == reference,
                    payment_orders.c.gateway_txn_id == reference,
                ),
            )
            query = query.where(or_(p.reference == reference, p.reference.in_(orders)))
            found = [
                PaymentRef(PaymentChannel(r.channel), r.reference) for r in self._db.execute(query)
            ]
            if found:
                return found
            # An app or website order that never became a payment: its channel events tell.
            order = self._db.execute(
                select(payment_orders.c.channel, payment_orders.c.order_id).where(
                    payment_orders.c.account_id == account_id,
                    or_(
                        payment_orders.c.order_id == reference,
                        payment_orders.c.gateway_txn_id == reference,
                    ),
                )
            ).first()
            return (
                [] if order is None else [PaymentRef(PaymentChannel(order.channel), order.order_id)]
            )
        rows = self._db.execute(query.order_by(p.received_at.desc(), p.id.desc()).limit(limit))
        return [PaymentRef(PaymentChannel(r.channel), r.reference) for r in rows]

    def supply(self, account_id: str, commands: int) -> SupplyFinding:
        state, balance = self._db.execute(
            select(accounts.c.supply_state, func.coalesce(ledger_accounts.c.balance_paise, 0))
            .select_from(
                accounts.outerjoin(
                    ledger_accounts,
                    ledger_accounts.c.code == literal(wallet("")) + accounts.c.account_id,
                )
            )
            .where(accounts.c.account_id == account_id)
        ).one()
        since = self._db.execute(
            select(func.max(supply_changes.c.at)).where(supply_changes.c.account_id == account_id)
        ).scalar()
        log = SqlOfficerDesk(self._db).command_log(None, limit=commands, account_id=account_id)
        logged = {c.command_id for c in log}
        found = [
            CommandFinding(
                c.command_id, c.action, c.status, c.created_at, c.attempts, c.finished_at, c.detail
            )
            for c in log
        ]
        # A command still in the outbox has not reached the head-end's log yet.
        waiting = self._db.execute(
            select(outbox.c.payload, outbox.c.created_at)
            .where(
                outbox.c.kind == "relay_command",
                outbox.c.account_id == account_id,
                outbox.c.status == "pending",
            )
            .order_by(outbox.c.created_at.desc(), outbox.c.id.desc())
            .limit(commands)
        )
        found.extend(
            CommandFinding(
                str(row.payload.get("command_id", "")),
                str(row.payload.get("action", "")),
                "queued",
                row.created_at,
                0,
                None,
                "waiting in the outbox for the head-end",
            )
            for row in waiting
            if row.payload.get("command_id") not in logged
        )
        found.sort(key=lambda command: command.created_at, reverse=True)
        return SupplyFinding(state, int(balance), since, tuple(found[:commands]))

    def daily_use(self, account_id: str, first_day: date, last_day: date) -> dict[date, int]:
        u = daily_usage.c
        rows = self._db.execute(
            select(u.usage_day, u.used_wh).where(
                u.account_id == account_id, u.usage_day >= first_day, u.usage_day <= last_day
            )
        )
        return {row.usage_day: int(row.used_wh) for row in rows}

    def similar_medians(
        self, account: AccountFacts, first_day: date, last_day: date
    ) -> dict[date, tuple[int, int]]:
        if account.division_code is None:
            return {}
        u, a = daily_usage.c, accounts.c
        above, upto = load_band(account.sanctioned_load_w)
        band = [a.sanctioned_load_w > above]
        if upto is not None:
            band.append(a.sanctioned_load_w <= upto)
        # The peers first (by the account's subdivision index), then their days by the
        # usage key (account, day): a division's peers, not the whole DISCOM's day.
        peers = (
            select(a.account_id)
            .select_from(accounts.join(_sub, _sub.c.code == a.subdivision_code))
            .where(
                _sub.c.parent_code == account.division_code,
                a.category == account.category,
                a.account_id != account.account_id,
                *band,
            )
        )
        ranked = (
            select(
                u.usage_day,
                u.used_wh,
                func.row_number().over(partition_by=u.usage_day, order_by=u.used_wh).label("rn"),
                func.count().over(partition_by=u.usage_day).label("n"),
            )
            .where(
                u.account_id.in_(peers.scalar_subquery()),
                u.usage_day >= first_day,
                u.usage_day <= last_day,
            )
            .subquery()
        )
        r = ranked.c
        rows = self._db.execute(
            select(
                r.usage_day,
                func.sum(r.used_wh).label("middle_wh"),
                func.count().label("middles"),
                func.max(r.n).label("households"),
            )
            .where(r.rn.in_([(r.n + 1) // 2, (r.n + 2) // 2]))
            .group_by(r.usage_day)
        )
        return {
            row.usage_day: (
                round_half_up(int(row.middle_wh), int(row.middles)),
                int(row.households),
            )
            for row in rows
        }

    def charged_days(self, account_id: str, first_day: date, last_day: date) -> list[ChargedDay]:
        days = SqlConsumerPortal(self._db).statement(account_id, first_day, last_day)
        return [d.charged() for d in days]

    def contact_changes(self, account_id: str, limit: int) -> list[ContactFinding]:
        c = contact_changes.c
        rows = self._db.execute(
            select(c.kind, c.old_value, c.new_value, c.changed_at)
            .where(c.account_id == account_id)
            .order_by(c.changed_at.desc(), c.id.desc())
            .limit(limit)
        )
        return [ContactFinding(r.kind, r.old_value, r.new_value, r.changed_at) for r in rows]


def complaint_of_row(row: RowMapping) -> Complaint:
    return Complaint(
        row["id"],
        row["account_id"],
        ComplaintCategory(row["category"]),
        row["description"],
        row["payment_reference"],
        ComplaintStatus(row["status"]),
        row["opened_at"],
        row["due_on"],
        row["updated_at"],
        row["resolution"],
        row["escalation_level"],
        row["assigned_to"],
        row["check_meter_on"],
        row["resolved_at"],
    )


# -- the officers' list -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComplaintRow:
    complaint: Complaint
    consumer_name: str
    division_code: str | None

    def is_overdue(self, at: datetime) -> bool:
        return self.complaint.is_overdue(at)

    def days_left(self, at: datetime) -> int:
        """IST days to the due day's end: 0 on the due day, negative once overdue."""
        return (self.complaint.due_on - ist_day(at)).days


@dataclass(frozen=True, slots=True)
class ComplaintFilter:
    status: ComplaintStatus | None = None  # None: every status
    category: ComplaintCategory | None = None
    is_overdue_only: bool = False


class SqlComplaintList(_ReadModel):
    """The complaints of the visible divisions (None: every division), unfinished and
    overdue first, then by due day."""

    def complaints(
        self,
        divisions: Collection[str] | None,
        wanted: ComplaintFilter,
        at: datetime,
        limit: int = 200,
    ) -> list[ComplaintRow]:
        c = complaints.c
        is_open = c.status.in_([s.value for s in OPEN_STATUSES])
        query = (
            select(complaints, accounts.c.consumer_name, _sub.c.parent_code)
            .select_from(
                complaints.join(accounts, accounts.c.account_id == c.account_id).outerjoin(
                    _sub, _sub.c.code == accounts.c.subdivision_code
                )
            )
            .order_by(is_open.desc(), c.due_on, c.id)
            .limit(limit)
        )
        if divisions is not None:
            if isinstance(divisions, str):
                raise TypeError("divisions: a collection of division codes, or None for all")
            query = query.where(_sub.c.parent_code.in_(sorted(divisions)))
        if wanted.status is not None:
            query = query.where(c.status == wanted.status.value)
        if wanted.category is not None:
            query = query.where(c.category == wanted.category.value)
        if wanted.is_overdue_only:
            # overdue: unfinished past the end of its due day (domain/complaints.due_end)
            query = query.where(and_(is_open, c.due_on < ist_day(at)))
        with self._reading() as db:
            return [
                ComplaintRow(complaint_of_row(row), row.consumer_name, row.parent_code)
                for row in db.execute(query).mappings()
            ]
