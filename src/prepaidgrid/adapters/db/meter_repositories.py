"""Repositories of the head-end: bulk, idempotent inserts (ON CONFLICT DO NOTHING)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection as SqlConnection
from sqlalchemy import Table, and_, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from prepaidgrid.adapters.db.bulk import insert_new, insert_new_returning, instant_for
from prepaidgrid.adapters.db.tables import (
    accounts,
    daily_usage,
    interval_blocks,
    meter_events,
    meter_messages,
    meters,
    register_reads,
    rejected_messages,
    relay_commands,
)
from prepaidgrid.domain.meter_protocol import Block, Event, EventKind, Reading
from prepaidgrid.domain.meterdata import RegisterRead, UsageMethod
from prepaidgrid.services.ports import (
    DailyUsageRow,
    MeteredAccount,
    MeterInfo,
    MeterReplaced,
    MeterSpell,
    RejectedMessage,
    RelayCommandRow,
)


def _insert_ignoring_duplicates(db: SqlConnection, table: Table) -> Any:
    dialect = sqlite if db.dialect.name == "sqlite" else postgresql
    return dialect.insert(table).on_conflict_do_nothing()


class SqlMeterData:
    def __init__(self, connection: SqlConnection) -> None:
        self._db = connection

    def known_meters(self, meter_ids: set[str]) -> dict[str, MeterInfo]:
        if not meter_ids:
            return {}
        rows = self._db.execute(
            select(
                meters.c.meter_id,
                meters.c.account_id,
                accounts.c.discom,
                accounts.c.sanctioned_load_w,
            )
            .join(accounts, accounts.c.account_id == meters.c.account_id)
            # a removed meter's late messages (its final read) still belong to its account
            .where(meters.c.meter_id.in_(sorted(meter_ids)))
        ).all()
        return {
            r.meter_id: MeterInfo(r.meter_id, r.account_id, r.discom, r.sanctioned_load_w)
            for r in rows
        }

    def record_messages(
        self, keys: list[tuple[str, str, str]], received_at: datetime
    ) -> set[tuple[str, str]]:
        at = instant_for(self._db)(received_at)
        rows = insert_new_returning(
            self._db,
            meter_messages,
            ("meter_id", "msg_id", "channel", "received_at"),
            [(m, i, c, at) for m, i, c in keys],
            returning="meter_id, msg_id",
        )
        return {(row[0], row[1]) for row in rows}

    def add_reads(self, readings: list[Reading], received_at: datetime) -> int:
        instant = instant_for(self._db)
        at = instant(received_at)
        insert_new(
            self._db,
            register_reads,
            (
                "meter_id",
                "read_at",
                "kind",
                "import_wh",
                "import_vah",
                "max_demand_w",
                "meter_time",
                "received_at",
                "msg_id",
            ),
            [
                (
                    r.meter_id,
                    instant(r.read_at),
                    r.kind.value,
                    r.import_wh,
                    r.import_vah,
                    r.max_demand_w,
                    instant(r.meter_time),
                    at,
                    r.msg_id,
                )
                for r in readings
            ],
        )
        insert_new(
            self._db,
            interval_blocks,
            ("meter_id", "block_start", "minutes", "import_wh"),
            [
                (r.meter_id, instant(b.start), b.minutes, b.import_wh)
                for r in readings
                for b in r.blocks
            ],
        )
        return len(readings)

    def add_events(self, events: list[Event], received_at: datetime) -> int:
        if not events:
            return 0
        self._db.execute(
            _insert_ignoring_duplicates(self._db, meter_events),
            [
                {
                    "meter_id": e.meter_id,
                    "msg_id": e.msg_id,
                    "kind": e.kind.value,
                    "occurred_at": e.occurred_at,
                    "vendor_code": e.vendor_code,
                    "final_import_wh": e.final_import_wh,
                    "received_at": received_at,
                }
                for e in events
            ],
        )
        return len(events)

    def add_rejections(self, rejections: list[RejectedMessage]) -> None:
        if rejections:
            self._db.execute(
                rejected_messages.insert(),
                [
                    {
                        "received_at": r.received_at,
                        "topic": r.topic[:200],
                        "reason": r.reason,
                        "detail": r.detail[:500],
                    }
                    for r in rejections
                ],
            )

    # -- read back for VEE (services/meter_usage.py) ------------------------------------------

    def metered_accounts(self) -> list[MeteredAccount]:
        in_service = meters.alias("in_service")
        rows = self._db.execute(
            select(
                accounts.c.account_id,
                accounts.c.category,
                accounts.c.discom,
                accounts.c.sanctioned_load_w,
                accounts.c.migrated_at,
                meters.c.meter_id,
                meters.c.installed_at,
                meters.c.removed_at,
            )
            .join(meters, meters.c.account_id == accounts.c.account_id)
            .where(
                accounts.c.migrated_at.is_not(None),
                exists().where(
                    in_service.c.account_id == accounts.c.account_id,
                    in_service.c.removed_at.is_(None),
                ),
            )
            .order_by(accounts.c.account_id, meters.c.installed_at, meters.c.meter_id)
        ).all()
        spells: dict[str, list[MeterSpell]] = {}
        found: dict[str, Any] = {}
        for row in rows:
            found.setdefault(row.account_id, row)
            spells.setdefault(row.account_id, []).append(
                MeterSpell(row.meter_id, row.installed_at, row.removed_at)
            )
        return [
            MeteredAccount(
                account_id,
                row.category,
                row.discom,
                row.sanctioned_load_w,
                row.migrated_at,
                tuple(spells[account_id]),
            )
            for account_id, row in found.items()
        ]

    def register_reads(
        self, meter_ids: Collection[str], start: datetime, end: datetime
    ) -> list[RegisterRead]:
        if not meter_ids:
            return []
        rows = self._db.execute(
            select(
                register_reads.c.meter_id,
                register_reads.c.read_at,
                register_reads.c.import_wh,
                register_reads.c.max_demand_w,
                register_reads.c.received_at,
                register_reads.c.meter_time,
            )
            .where(
                register_reads.c.meter_id.in_(sorted(meter_ids)),
                register_reads.c.read_at >= start,
                register_reads.c.read_at < end,
            )
            .order_by(register_reads.c.meter_id, register_reads.c.read_at)
        ).all()
        return [
            RegisterRead(
                r.meter_id, r.read_at, int(r.import_wh), r.max_demand_w, r.received_at, r.meter_time
            )
            for r in rows
        ]

    def meter_replacements(self, meter_ids: Collection[str]) -> list[MeterReplaced]:
        if not meter_ids:
            return []
        rows = self._db.execute(
            select(
                meter_events.c.meter_id, meter_events.c.occurred_at, meter_events.c.final_import_wh
            )
            .where(
                meter_events.c.meter_id.in_(sorted(meter_ids)),
                meter_events.c.kind == EventKind.METER_REPLACED.value,
                meter_events.c.final_import_wh.is_not(None),
            )
            .order_by(meter_events.c.meter_id, meter_events.c.occurred_at)
        ).all()
        return [MeterReplaced(r.meter_id, r.occurred_at, int(r.final_import_wh)) for r in rows]

    def interval_blocks(
        self, meter_ids: Collection[str], start: datetime, end: datetime
    ) -> dict[str, list[Block]]:
        if not meter_ids:
            return {}
        rows = self._db.execute(
            select(interval_blocks)
            .where(
                interval_blocks.c.meter_id.in_(sorted(meter_ids)),
                interval_blocks.c.block_start >= start,
                interval_blocks.c.block_start < end,
            )
            .order_by(interval_blocks.c.meter_id, interval_blocks.c.block_start)
        ).all()
        blocks: dict[str, list[Block]] = {}
        for r in rows:
            blocks.setdefault(r.meter_id, []).append(Block(r.block_start, r.minutes, r.import_wh))
        return blocks

    def put_daily_usage(self, rows: list[DailyUsageRow]) -> None:
        if not rows:
            return
        dialect = sqlite if self._db.dialect.name == "sqlite" else postgresql
        statement = dialect.insert(daily_usage)
        replaced = {
            column.name: statement.excluded[column.name]
            for column in daily_usage.columns
            if not column.primary_key
        }
        self._db.execute(
            statement.on_conflict_do_update(
                index_elements=[daily_usage.c.account_id, daily_usage.c.usage_day], set_=replaced
            ),
            [
                {
                    "account_id": row.account_id,
                    "usage_day": row.usage_day,
                    "meter_id": row.meter_id,
                    "used_wh": row.used_wh,
                    "method": row.method.value,
                    "opening_wh": row.opening_wh,
                    "closing_wh": row.closing_wh,
                    "max_demand_w": row.max_demand_w,
                    "band_wh": dict(row.band_wh),
                    "flags": list(row.flags),
                    "note": row.note,
                    "computed_at": row.computed_at,
                }
                for row in rows
            ],
        )

    def daily_usage_on(self, day: date) -> list[DailyUsageRow]:
        rows = self._db.execute(
            select(daily_usage)
            .where(daily_usage.c.usage_day == day)
            .order_by(daily_usage.c.account_id)
        ).all()
        return [_usage_row(row) for row in rows]

    def daily_usage_of(
        self, account_id: str, first_day: date, last_day: date
    ) -> list[DailyUsageRow]:
        rows = self._db.execute(
            select(daily_usage)
            .where(
                daily_usage.c.account_id == account_id,
                daily_usage.c.usage_day >= first_day,
                daily_usage.c.usage_day <= last_day,
            )
            .order_by(daily_usage.c.usage_day)
        ).all()
        return [_usage_row(row) for row in rows]


def _usage_row(row: Any) -> DailyUsageRow:
    return DailyUsageRow(
        account_id=row.account_id,
        usage_day=row.usage_day,
        meter_id=row.meter_id,
        used_wh=int(row.used_wh),
        method=UsageMethod(row.method),
        opening_wh=None if row.opening_wh is None else int(row.opening_wh),
        closing_wh=None if row.closing_wh is None else int(row.closing_wh),
        max_demand_w=row.max_demand_w,
        band_wh={str(band): int(wh) for band, wh in row.band_wh.items()},
        flags=tuple(row.flags),
        note=row.note,
        computed_at=row.computed_at,
    )


class SqlRelayCommands:
    def __init__(self, connection: SqlConnection) -> None:
        self._db = connection

    def add(self, command: RelayCommandRow) -> bool:
        inserted = self._db.execute(
            _insert_ignoring_duplicates(self._db, relay_commands)
            .values(
                command_id=command.command_id,
                account_id=command.account_id,
                meter_id=command.meter_id,
                discom=command.discom,
                action=command.action,
                status=command.status,
                created_at=command.created_at,
                expires_at=command.expires_at,
                attempts=command.attempts,
                next_attempt_at=command.next_attempt_at,
            )
            .returning(relay_commands.c.command_id)  # rowcount is -1 for this on PostgreSQL
        )
        return inserted.first() is not None

    def _row(self, row: Any) -> RelayCommandRow:
        return RelayCommandRow(
            row.command_id,
            row.account_id,
            row.meter_id,
            row.discom,
            row.action,
            row.status,
            row.created_at,
            row.expires_at,
            row.attempts,
            row.next_attempt_at,
        )

    def get(self, command_id: str) -> RelayCommandRow | None:
        row = self._db.execute(
            select(relay_commands).where(relay_commands.c.command_id == command_id)
        ).first()
        return None if row is None else self._row(row)

    def due(self, at: datetime, limit: int) -> list[RelayCommandRow]:
        rows = self._db.execute(
            select(relay_commands)
            .where(
                relay_commands.c.status.in_(("queued", "sent")),
                or_(
                    relay_commands.c.next_attempt_at <= at,
                    relay_commands.c.expires_at <= at,
                ),
            )
            .order_by(relay_commands.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        return [self._row(row) for row in rows]

    def mark_sent(self, command_id: str, at: datetime, next_attempt_at: datetime) -> None:
        self._db.execute(
            update(relay_commands)
            .where(relay_commands.c.command_id == command_id)
            .values(
                status="sent",
                attempts=relay_commands.c.attempts + 1,
                last_sent_at=at,
                next_attempt_at=next_attempt_at,
            )
        )

    def finish(self, command_id: str, status: str, at: datetime, detail: str) -> None:
        self._db.execute(
            update(relay_commands)
            .where(
                and_(
                    relay_commands.c.command_id == command_id,
                    relay_commands.c.status.in_(("queued", "sent")),
                )
            )
            .values(status=status, finished_at=at, detail=detail)
        )
