"""The officers' portal, read side: division dashboards, account search, statements, commands.

An officer sees only the divisions posted to them: methods take the visible division codes
(None: every division, for admins and auditors) and filter in SQL, through the account's
subdivision and its parent division, so an account outside them is never read. Each call
reads in one transaction (see `_ReadModel`): a dashboard's figures come from one snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy import Connection as SqlConnection

from prepaidgrid.adapters.db.payment_read_models import _ReadModel
from prepaidgrid.adapters.db.tables import (
    accounts,
    journals,
    ledger_accounts,
    meters,
    org_units,
    payments,
    postings,
    relay_commands,
)
from prepaidgrid.domain.ledger import wallet
from prepaidgrid.domain.supply import SupplyState
from prepaidgrid.domain.units import ist_midnight, require_utc

SUPPLY_STATES = tuple(state.value for state in SupplyState)
PENDING_COMMAND = ("queued", "sent")  # not finished: finish() sets finished_at with the rest
MIN_FUZZY_CHARS = 3  # a name or id prefix shorter than this would match half a division
MOBILE_QUERY = re.compile(r"[0-9]{10}")

_sub = org_units.alias("sub")  # the account's subdivision; its parent_code is the division
_placed = accounts.join(_sub, _sub.c.code == accounts.c.subdivision_code)
_wallet = ledger_accounts.alias("wallet")
_wallet_of_account = _wallet.c.code == literal(wallet("")) + accounts.c.account_id
_in_service = meters.alias("in_service")
_in_service_of_account = and_(
    _in_service.c.account_id == accounts.c.account_id, _in_service.c.removed_at.is_(None)
)


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name_en: str
    name_hi: str


@dataclass(frozen=True, slots=True)
class ChannelCollection:
    channel: str
    payment_count: int
    amount_paise: int


@dataclass(frozen=True, slots=True)
class DashboardRow:
    """One division's figures, or (division_code None) the total of the visible ones."""

    division_code: str | None
    meters_in_service: int
    accounts_by_state: Mapping[str, int]  # every SupplyState value, zeros included
    cuts_due_today: int  # in grace, cut_at within the IST day
    cuts_overdue: int  # in grace, cut_at passed by `now`: the sweep has not cut them (yet)
    relay_commands_pending: int  # queued or sent, no answer yet
    collections: tuple[ChannelCollection, ...]  # the day's credited payments, by channel

    @property
    def accounts(self) -> int:
        return sum(self.accounts_by_state.values())

    @property
    def collected_paise(self) -> int:
        return sum(c.amount_paise for c in self.collections)


@dataclass(frozen=True, slots=True)
class Dashboard:
    day: date  # IST
    as_of_at: datetime
    divisions: tuple[DashboardRow, ...]  # by division code
    total: DashboardRow


@dataclass(frozen=True, slots=True)
class AccountHit:
    account_id: str
    consumer_name: str
    mobile: str
    meter_id: str | None  # the meter in service, if any
    division_code: str
    supply_state: str
    wallet_paise: int


@dataclass(frozen=True, slots=True)
class StatementLine:
    at: datetime
    journal_kind: str
    journal_key: str
    memo: str
    amount_paise: int  # + credit, - debit, as posted to the wallet
    balance_after_paise: int


@dataclass(frozen=True, slots=True)
class CommandRow:
    command_id: str
    account_id: str
    meter_id: str
    division_code: str | None  # None: no such account (any more)
    action: str
    status: str
    attempts: int
    created_at: datetime
    last_sent_at: datetime | None
    finished_at: datetime | None
    expires_at: datetime
    detail: str

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_COMMAND


@dataclass
class _Tally:
    meters: int = 0
    states: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SUPPLY_STATES, 0))
    cuts_due_today: int = 0
    cuts_overdue: int = 0
    commands_pending: int = 0
    collections: dict[str, tuple[int, int]] = field(default_factory=dict)  # count, paise

    def collect(self, channel: str, count: int, amount_paise: int) -> None:
        before_count, before_paise = self.collections.get(channel, (0, 0))
        self.collections[channel] = (before_count + count, before_paise + amount_paise)

    def absorb(self, other: _Tally) -> None:
        self.meters += other.meters
        for state, count in other.states.items():
            self.states[state] = self.states.get(state, 0) + count
        self.cuts_due_today += other.cuts_due_today
        self.cuts_overdue += other.cuts_overdue
        self.commands_pending += other.commands_pending
        for channel, (count, paise) in other.collections.items():
            self.collect(channel, count, paise)

    def row(self, division_code: str | None) -> DashboardRow:
        return DashboardRow(
            division_code,
            self.meters,
            dict(self.states),
            self.cuts_due_today,
            self.cuts_overdue,
            self.commands_pending,
            tuple(
                ChannelCollection(channel, count, paise)
                for channel, (count, paise) in sorted(self.collections.items())
            ),
        )


def _codes(divisions: Collection[str] | None) -> list[str] | None:
    if isinstance(divisions, str):  # a str is a Collection[str]: "DIV-1" would be 5 codes
        raise TypeError("divisions: a collection of division codes, or None for all")
    return None if divisions is None else sorted(set(divisions))


def _scope(divisions: Collection[str] | None) -> list[ColumnElement[bool]]:
    """The WHERE terms that keep a query inside the visible divisions (needs `_sub`)."""
    codes = _codes(divisions)
    return [] if codes is None else [_sub.c.parent_code.in_(codes)]


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlOfficerDesk(_ReadModel):
    """What division officers, auditors and admins read; nothing here writes."""

    def division_of(self, account_id: str) -> str | None:
        query = select(_sub.c.parent_code).select_from(_placed)
        with self._reading() as db:
            code = db.execute(query.where(accounts.c.account_id == account_id)).scalar()
        return None if code is None else str(code)

    def divisions(self, codes: Collection[str] | None) -> list[Division]:
        with self._reading() as db:
            return self._divisions(db, codes)

    @staticmethod
    def _divisions(db: SqlConnection, codes: Collection[str] | None) -> list[Division]:
        query = select(org_units.c.code, org_units.c.name_en, org_units.c.name_hi).where(
            org_units.c.level == "division"
        )
        visible = _codes(codes)
        if visible is not None:
            query = query.where(org_units.c.code.in_(visible))
        return [
            Division(row.code, row.name_en, row.name_hi)
            for row in db.execute(query.order_by(org_units.c.code))
        ]

    def dashboard(self, divisions: Collection[str] | None, day: date, now: datetime) -> Dashboard:
        """The visible divisions' figures for an IST day, one query per figure group."""
        now = require_utc(now)
        start, end = ist_midnight(day), ist_midnight(day + timedelta(days=1))
        scope = _scope(divisions)
        division = _sub.c.parent_code
        in_grace = accounts.c.supply_state == SupplyState.GRACE.value
        due_today = and_(in_grace, accounts.c.cut_at >= start, accounts.c.cut_at < end)
        overdue = and_(in_grace, accounts.c.cut_at <= now)
        meter_query = (
            select(division, func.count())
            .select_from(meters.join(_placed, accounts.c.account_id == meters.c.account_id))
            .where(meters.c.removed_at.is_(None), *scope)
            .group_by(division)
        )
        account_query = (
            select(
                division,
                accounts.c.supply_state,
                func.count(),
                func.sum(case((due_today, 1), else_=0)),
                func.sum(case((overdue, 1), else_=0)),
            )
            .select_from(_placed)
            .where(*scope)
            .group_by(division, accounts.c.supply_state)
        )
        command_query = (
            select(division, func.count())
            .select_from(
                relay_commands.join(_placed, accounts.c.account_id == relay_commands.c.account_id)
            )
            .where(relay_commands.c.status.in_(PENDING_COMMAND), *scope)
            .group_by(division)
        )
        # A collection is a payment credited (and not reversed since) received in the day:
        # the day a channel took the money, as reconciliation counts it.
        collection_query = (
            select(division, payments.c.channel, func.count(), func.sum(payments.c.amount_paise))
            .select_from(payments.join(_placed, accounts.c.account_id == payments.c.account_id))
            .where(
                payments.c.status == "credited",
                payments.c.received_at >= start,
                payments.c.received_at < end,
                *scope,
            )
            .group_by(division, payments.c.channel)
        )
        with self._reading() as db:
            tallies = {d.code: _Tally() for d in self._divisions(db, divisions)}
            for code, count in db.execute(meter_query):
                if code in tallies:
                    tallies[code].meters += int(count)
            for code, state, count, due, late in db.execute(account_query):
                if code in tallies:
                    tally = tallies[code]
                    tally.states[state] = tally.states.get(state, 0) + int(count)
                    tally.cuts_due_today += int(due or 0)
                    tally.cuts_overdue += int(late or 0)
            for code, count in db.execute(command_query):
                if code in tallies:
                    tallies[code].commands_pending += int(count)
            for code, channel, count, paise in db.execute(collection_query):
                if code in tallies:
                    tallies[code].collect(channel, int(count), int(paise))
        total = _Tally()
        for tally in tallies.values():
            total.absorb(tally)
        return Dashboard(
            day,
            now,
            tuple(tally.row(code) for code, tally in sorted(tallies.items())),
            total.row(None),
        )

    def search(
        self, query: str, divisions: Collection[str] | None, limit: int = 20
    ) -> list[AccountHit]:
        """Accounts by id, id prefix, any meter ever installed, mobile or name; exact
        matches first. The query is data, never a pattern: % and _ match themselves."""
        text = query.strip()
        if not text or limit <= 0 or not text.isprintable():  # no stored text has a NUL
            return []
        ever_installed = exists().where(
            meters.c.account_id == accounts.c.account_id, meters.c.meter_id == text
        )
        matches: list[ColumnElement[bool]] = [accounts.c.account_id == text, ever_installed]
        if MOBILE_QUERY.fullmatch(text):
            matches.append(accounts.c.mobile == text)
        if len(text) >= MIN_FUZZY_CHARS:
            escaped = _like_escaped(text.lower())
            matches.append(func.lower(accounts.c.account_id).like(f"{escaped}%", escape="\\"))
            matches.append(func.lower(accounts.c.consumer_name).like(f"%{escaped}%", escape="\\"))
        rank = case(*((match, n) for n, match in enumerate(matches)), else_=len(matches))
        statement = (
            select(
                accounts.c.account_id,
                accounts.c.consumer_name,
                accounts.c.mobile,
                _in_service.c.meter_id,
                _sub.c.parent_code,
                accounts.c.supply_state,
                _wallet.c.balance_paise,
            )
            .select_from(
                _placed.outerjoin(_in_service, _in_service_of_account).outerjoin(
                    _wallet, _wallet_of_account
                )
            )
            .where(or_(*matches), *_scope(divisions))
            .order_by(rank, accounts.c.account_id)
            .limit(limit)
        )
        with self._reading() as db:
            return [
                AccountHit(
                    row.account_id,
                    row.consumer_name,
                    row.mobile,
                    row.meter_id,
                    row.parent_code,
                    row.supply_state,
                    int(row.balance_paise or 0),
                )
                for row in db.execute(statement)
            ]

    def account_statement(self, account_id: str, limit: int = 100) -> list[StatementLine]:
        """The wallet's postings, newest first, each with the balance it left.

        The running sum runs over all the wallet's postings, oldest first, before the
        limit cuts the newest off: the balances stay right however short the page.
        """
        if limit <= 0:
            return []
        order = (journals.c.posted_at, postings.c.id)
        lines = (
            select(
                journals.c.posted_at,
                journals.c.kind,
                journals.c.idempotency_key,
                journals.c.memo,
                postings.c.id,
                postings.c.amount_paise,
                func.sum(postings.c.amount_paise)
                .over(order_by=order, rows=(None, 0))
                .label("balance_after"),
            )
            .select_from(postings.join(journals, journals.c.id == postings.c.journal_id))
            .where(postings.c.ledger_account == wallet(account_id))
            .subquery()
        )
        statement = select(lines).order_by(lines.c.posted_at.desc(), lines.c.id.desc()).limit(limit)
        with self._reading() as db:
            return [
                StatementLine(
                    row.posted_at,
                    row.kind,
                    row.idempotency_key,
                    row.memo,
                    int(row.amount_paise),
                    int(row.balance_after),
                )
                for row in db.execute(statement)
            ]

    def command_log(
        self, divisions: Collection[str] | None, limit: int = 100, account_id: str | None = None
    ) -> list[CommandRow]:
        """Relay commands, newest first; an admin also sees those of vanished accounts."""
        if limit <= 0:
            return []
        statement = (
            select(relay_commands, _sub.c.parent_code)
            .select_from(
                relay_commands.outerjoin(
                    accounts, accounts.c.account_id == relay_commands.c.account_id
                ).outerjoin(_sub, _sub.c.code == accounts.c.subdivision_code)
            )
            .where(*_scope(divisions))
            .order_by(relay_commands.c.created_at.desc(), relay_commands.c.command_id.desc())
            .limit(limit)
        )
        if account_id is not None:
            statement = statement.where(relay_commands.c.account_id == account_id)
        with self._reading() as db:
            return [
                CommandRow(
                    row.command_id,
                    row.account_id,
                    row.meter_id,
                    row.parent_code,
                    row.action,
                    row.status,
                    int(row.attempts),
                    row.created_at,
                    row.last_sent_at,
                    row.finished_at,
                    row.expires_at,
                    row.detail,
                )
                for row in db.execute(statement)
            ]
