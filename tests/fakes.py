"""Recording fakes for every port of services/ports.py: dictionaries, no database."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from datetime import date, datetime
from types import TracebackType
from typing import Self

from prepaidgrid.domain.accounts import Connection, MonthToDate, NewConnection, OrgUnit
from prepaidgrid.domain.arrears import ArrearsPlan
from prepaidgrid.domain.errors import (
    AlreadyExists,
    DuplicateJournal,
    DuplicatePayment,
    NotFound,
    UnknownAccount,
)
from prepaidgrid.domain.ledger import Journal, PaymentRef, arrears, wallet
from prepaidgrid.domain.meter_protocol import Block, Event, EventKind, Reading
from prepaidgrid.domain.meterdata import RegisterRead
from prepaidgrid.domain.supply import SupplySnapshot, SupplyState
from prepaidgrid.services.ports import (
    DailyCharge,
    DailyUsageRow,
    MeteredAccount,
    MeterInfo,
    MeterReplaced,
    MeterSpell,
    OutboxMessage,
    PaymentRecord,
    RejectedMessage,
    SupplyChange,
)


class FixedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class FakeLedger:
    def __init__(self) -> None:
        self.journals: list[Journal] = []

    def add(self, journal: Journal) -> None:
        if self.has(journal.key):
            raise DuplicateJournal(journal.key)
        self.journals.append(journal)

    def has(self, key: str) -> bool:
        return any(j.key == key for j in self.journals)

    def balance(self, code: str) -> int:
        return sum(
            p.amount_paise for j in self.journals for p in j.postings if p.ledger_account == code
        )


class FakeConnections:
    def __init__(self, ledger: FakeLedger) -> None:
        self._ledger = ledger
        self.rows: dict[str, Connection] = {}
        self.changes: list[SupplyChange] = []
        self.units: dict[str, OrgUnit] = {}
        self.meters: dict[str, list[MeterSpell]] = {}  # account -> its meters, in order

    def add_org_unit(self, unit: OrgUnit) -> None:
        self.units[unit.code] = unit

    def org_units(self) -> list[OrgUnit]:
        return list(self.units.values())

    def add(self, new: NewConnection, at: datetime) -> None:
        if new.account_id in self.rows:
            raise AlreadyExists(new.account_id)
        self.rows[new.account_id] = Connection(
            new.account_id,
            new.category,
            new.discom,
            new.sanctioned_load_w,
            new.supply_profile,
            new.language,
            new.mobile,
            0,
            0,
            SupplySnapshot(SupplyState.CONNECTED),
            None,
            None,
            None,
        )

    def get(self, account_id: str) -> Connection:
        if account_id not in self.rows:
            raise UnknownAccount(f"no account {account_id!r}")
        row = self.rows[account_id]
        return dataclasses.replace(
            row,
            wallet_paise=self._ledger.balance(wallet(account_id)),
            arrears_paise=self._ledger.balance(arrears(account_id)),
        )

    lock = get

    def save_supply(self, change: SupplyChange, snapshot: SupplySnapshot) -> None:
        self.rows[change.account_id] = dataclasses.replace(
            self.rows[change.account_id], supply=snapshot
        )
        self.changes.append(change)

    def install_meter(
        self, account_id: str, meter_id: str, at: datetime, plan: ArrearsPlan | None
    ) -> None:
        self.rows[account_id] = dataclasses.replace(
            self.rows[account_id], meter_id=meter_id, migrated_at=at, arrears_plan=plan
        )
        self.meters.setdefault(account_id, []).append(MeterSpell(meter_id, at))

    def replace_meter(
        self, account_id: str, old_meter_id: str, new_meter_id: str, at: datetime
    ) -> None:
        if self.rows[account_id].meter_id != old_meter_id:
            raise NotFound(f"meter {old_meter_id} is not in service on account {account_id}")
        self.rows[account_id] = dataclasses.replace(self.rows[account_id], meter_id=new_meter_id)
        spells = self.meters[account_id]
        spells[-1] = dataclasses.replace(spells[-1], removed_at=at)
        spells.append(MeterSpell(new_meter_id, at))


class FakePayments:
    def __init__(self) -> None:
        self.rows: dict[PaymentRef, PaymentRecord] = {}

    def get(self, ref: PaymentRef) -> PaymentRecord | None:
        return self.rows.get(ref)

    def add(self, payment: PaymentRecord) -> None:
        if payment.ref in self.rows:
            raise DuplicatePayment(payment.ref.reference)
        self.rows[payment.ref] = payment

    def set_status(
        self, ref: PaymentRef, status: str, at: datetime, arrears_share_paise: int = 0
    ) -> None:
        self.rows[ref] = dataclasses.replace(
            self.rows[ref], status=status, arrears_share_paise=arrears_share_paise
        )

    def pending_paise(self, account_id: str) -> int:
        return sum(
            p.amount_paise
            for p in self.rows.values()
            if p.account_id == account_id and p.status == "pending"
        )


class FakeCharges:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, date], DailyCharge] = {}

    def month_to_date(self, account_id: str, month: date, before: date) -> MonthToDate:
        days = [c for (a, d), c in self.rows.items() if a == account_id and month <= d < before]
        return MonthToDate(
            sum(c.used_wh for c in days),
            len(days),
            max((c.max_demand_w for c in days), default=0),
            max((c.bill_day for c in days), default=None),
        )

    def has(self, account_id: str, bill_day: date) -> bool:
        return (account_id, bill_day) in self.rows

    def add(self, charge: DailyCharge) -> None:
        key = (charge.account_id, charge.bill_day)
        if key in self.rows:
            raise DuplicateJournal(str(key))
        self.rows[key] = charge


class FakeOutbox:
    def __init__(self) -> None:
        self.messages: list[OutboxMessage] = []
        self.sent: set[int] = set()

    def add(self, message: OutboxMessage) -> bool:
        if any(m.dedupe_key == message.dedupe_key for m in self.messages):
            return False
        self.messages.append(message)
        return True

    def pending(self, kind: str, limit: int) -> list[tuple[int, OutboxMessage]]:
        found = [
            (i, m) for i, m in enumerate(self.messages) if m.kind == kind and i not in self.sent
        ]
        return found[:limit]

    def mark_sent(self, message_id: int) -> None:
        self.sent.add(message_id)

    def of_kind(self, kind: str) -> list[OutboxMessage]:
        return [m for m in self.messages if m.kind == kind]


class FakePlatform:
    def __init__(self) -> None:
        self.safe_mode = False

    def is_safe_mode(self) -> bool:
        return self.safe_mode

    def set_safe_mode(self, is_on: bool, reason: str, at: datetime) -> None:
        self.safe_mode = is_on


class FakeMeterData:
    """The head-end's storage in lists; accounts and their meters come from connections."""

    def __init__(self, connections: FakeConnections) -> None:
        self._connections = connections
        self.messages: set[tuple[str, str]] = set()
        self.reads: dict[tuple[str, datetime], RegisterRead] = {}
        self.blocks: dict[tuple[str, datetime], Block] = {}
        self.events: list[Event] = []
        self.rejections: list[RejectedMessage] = []
        self.usage: dict[tuple[str, date], DailyUsageRow] = {}

    def known_meters(self, meter_ids: set[str]) -> dict[str, MeterInfo]:
        known = {}
        for account_id, spells in self._connections.meters.items():
            row = self._connections.rows[account_id]
            for spell in spells:
                if spell.meter_id in meter_ids:
                    known[spell.meter_id] = MeterInfo(
                        spell.meter_id, account_id, row.discom, row.sanctioned_load_w
                    )
        return known

    def record_messages(
        self, keys: list[tuple[str, str, str]], received_at: datetime
    ) -> set[tuple[str, str]]:
        new = {(meter_id, msg_id) for meter_id, msg_id, _ in keys} - self.messages
        self.messages |= new
        return new

    def add_reads(self, readings: list[Reading], received_at: datetime) -> int:
        for reading in readings:
            read = RegisterRead.from_reading(reading, received_at)
            self.reads.setdefault((read.meter_id, read.read_at), read)
            for block in reading.blocks:
                self.blocks.setdefault((reading.meter_id, block.start), block)
        return len(readings)

    def add_events(self, events: list[Event], received_at: datetime) -> int:
        self.events += events
        return len(events)

    def add_rejections(self, rejections: list[RejectedMessage]) -> None:
        self.rejections += rejections

    def metered_accounts(self) -> list[MeteredAccount]:
        return [
            MeteredAccount(
                account_id,
                row.category,
                row.discom,
                row.sanctioned_load_w,
                row.migrated_at,
                tuple(self._connections.meters[account_id]),
            )
            for account_id, row in sorted(self._connections.rows.items())
            if row.migrated_at is not None and row.meter_id is not None
        ]

    def register_reads(
        self, meter_ids: Collection[str], start: datetime, end: datetime
    ) -> list[RegisterRead]:
        return [
            read
            for (meter_id, read_at), read in sorted(self.reads.items())
            if meter_id in meter_ids and start <= read_at < end
        ]

    def meter_replacements(self, meter_ids: Collection[str]) -> list[MeterReplaced]:
        return [
            MeterReplaced(e.meter_id, e.occurred_at, e.final_import_wh)
            for e in sorted(self.events, key=lambda e: (e.meter_id, e.occurred_at))
            if e.meter_id in meter_ids
            and e.kind is EventKind.METER_REPLACED
            and e.final_import_wh is not None
        ]

    def interval_blocks(
        self, meter_ids: Collection[str], start: datetime, end: datetime
    ) -> dict[str, list[Block]]:
        found: dict[str, list[Block]] = {}
        for (meter_id, block_start), block in sorted(self.blocks.items()):
            if meter_id in meter_ids and start <= block_start < end:
                found.setdefault(meter_id, []).append(block)
        return found

    def put_daily_usage(self, rows: list[DailyUsageRow]) -> None:
        for row in rows:
            self.usage[(row.account_id, row.usage_day)] = row

    def daily_usage_on(self, day: date) -> list[DailyUsageRow]:
        return [row for (_, d), row in sorted(self.usage.items()) if d == day]

    def daily_usage_of(
        self, account_id: str, first_day: date, last_day: date
    ) -> list[DailyUsageRow]:
        return [
            row
            for (a, d), row in sorted(self.usage.items())
            if a == account_id and first_day <= d <= last_day
        ]


class FakeUnitOfWork:
    """Commits are counted; an exception (or no commit) discards nothing here, so services
    are also tested for writing nothing before they raise: see the integration suite."""

    def __init__(self) -> None:
        self.ledger = FakeLedger()
        self.connections = FakeConnections(self.ledger)
        self.payments = FakePayments()
        self.charges = FakeCharges()
        self.outbox = FakeOutbox()
        self.platform = FakePlatform()
        self.meter_data = FakeMeterData(self.connections)
        self.commits = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def commit(self) -> None:
        self.commits += 1
