"""The SQL of settlement reconciliation and of the payment timeline (read side).

Both read models take an Engine or a Connection. Given a Connection, every query runs in
its transaction (one consistent snapshot) and the caller commits what `record_import`
writes; given an Engine, each call opens its own short transaction and commits its write.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection as SqlConnection
from sqlalchemy import Engine, and_, select
from sqlalchemy.dialects import postgresql, sqlite

from prepaidgrid.adapters.db.tables import (
    journals,
    outbox,
    payment_events,
    payments,
    relay_commands,
    settlement_imports,
)
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.services.payment_timeline import (
    ChannelEvent,
    PaymentFacts,
    QueuedMessage,
    RelayCommandLife,
)
from prepaidgrid.services.reconciliation import LedgerPayment, StoredImport

CHUNK = 500  # references per IN (...) list


class _ReadModel:
    def __init__(self, source: Engine | SqlConnection) -> None:
        self._source = source

    @contextmanager
    def _reading(self) -> Iterator[SqlConnection]:
        if isinstance(self._source, SqlConnection):
            yield self._source
            return
        with self._source.connect() as db:
            # SQLite: a deferred BEGIN, beside the one writer (see adapters/db/engine.py)
            db.execution_options(prepaidgrid_read_only=True)
            with db.begin():
                yield db

    @contextmanager
    def _writing(self) -> Iterator[SqlConnection]:
        if isinstance(self._source, SqlConnection):
            yield self._source
            return
        with self._source.begin() as db:
            yield db


def _ledger_payment(row: Any) -> LedgerPayment:
    return LedgerPayment(
        row.reference,
        row.account_id,
        int(row.amount_paise),
        row.status,
        row.received_at,
        row.updated_at,
    )


_PAYMENT_COLUMNS = (
    payments.c.reference,
    payments.c.account_id,
    payments.c.amount_paise,
    payments.c.status,
    payments.c.received_at,
    payments.c.updated_at,
)


class SqlSettlements(_ReadModel):
    """`services.reconciliation.Settlements` in SQL."""

    def received_between(
        self, channel: PaymentChannel, start: datetime, end: datetime
    ) -> list[LedgerPayment]:
        query = (
            select(*_PAYMENT_COLUMNS)
            .where(
                payments.c.channel == channel.value,
                payments.c.status.in_(("credited", "reversed")),
                payments.c.received_at >= start,
                payments.c.received_at < end,
            )
            .order_by(payments.c.received_at, payments.c.reference)
        )
        with self._reading() as db:
            return [_ledger_payment(row) for row in db.execute(query)]

    def payments_named(
        self, channel: PaymentChannel, references: Collection[str]
    ) -> dict[str, LedgerPayment]:
        names = sorted(references)
        found: dict[str, LedgerPayment] = {}
        with self._reading() as db:
            for first in range(0, len(names), CHUNK):
                query = select(*_PAYMENT_COLUMNS).where(
                    payments.c.channel == channel.value,
                    payments.c.reference.in_(names[first : first + CHUNK]),
                )
                found.update((row.reference, _ledger_payment(row)) for row in db.execute(query))
        return found

    def find_import(
        self, channel: PaymentChannel, day: date, file_sha256: str
    ) -> StoredImport | None:
        with self._reading() as db:
            return self._stored(db, channel, day, file_sha256, is_new=False)

    def record_import(
        self,
        channel: PaymentChannel,
        day: date,
        file_sha256: str,
        at: datetime,
        summary: Mapping[str, Any],
    ) -> StoredImport:
        with self._writing() as db:
            dialect = sqlite if db.dialect.name == "sqlite" else postgresql
            inserted = db.execute(
                dialect.insert(settlement_imports)
                .values(
                    channel=channel.value,
                    settlement_day=day,
                    file_sha256=file_sha256,
                    imported_at=at,
                    summary=dict(summary),
                )
                .on_conflict_do_nothing()
                .returning(settlement_imports.c.id)
            ).first()
            stored = self._stored(db, channel, day, file_sha256, is_new=inserted is not None)
        assert stored is not None  # inserted now, or by whoever won the race
        return stored

    @staticmethod
    def _stored(
        db: SqlConnection, channel: PaymentChannel, day: date, file_sha256: str, *, is_new: bool
    ) -> StoredImport | None:
        row = db.execute(
            select(settlement_imports.c.imported_at, settlement_imports.c.summary).where(
                settlement_imports.c.channel == channel.value,
                settlement_imports.c.settlement_day == day,
                settlement_imports.c.file_sha256 == file_sha256,
            )
        ).first()
        return None if row is None else StoredImport(row.imported_at, row.summary, is_new)


class SqlPaymentHistory(_ReadModel):
    """`services.payment_timeline.PaymentHistory` in SQL."""

    def channel_events(self, payment: PaymentRef) -> list[ChannelEvent]:
        query = (
            select(payment_events.c.stage, payment_events.c.at, payment_events.c.detail)
            .where(
                payment_events.c.channel == payment.channel.value,
                payment_events.c.reference == payment.reference,
            )
            .order_by(payment_events.c.at, payment_events.c.id)
        )
        with self._reading() as db:
            return [ChannelEvent(row.stage, row.at, row.detail) for row in db.execute(query)]

    def payment(self, payment: PaymentRef) -> PaymentFacts | None:
        query = select(payments).where(
            payments.c.channel == payment.channel.value,
            payments.c.reference == payment.reference,
        )
        with self._reading() as db:
            row = db.execute(query).first()
        if row is None:
            return None
        return PaymentFacts(
            row.account_id,
            int(row.amount_paise),
            int(row.arrears_share_paise),
            row.status,
            row.received_at,
            row.updated_at,
        )

    def journals_posted(self, keys: Sequence[str]) -> dict[str, datetime]:
        query = select(journals.c.idempotency_key, journals.c.posted_at).where(
            journals.c.idempotency_key.in_(list(keys))
        )
        with self._reading() as db:
            return {row.idempotency_key: row.posted_at for row in db.execute(query)}

    def messages(self, dedupe_keys: Sequence[str]) -> list[QueuedMessage]:
        query = (
            select(outbox)
            .where(outbox.c.dedupe_key.in_(list(dedupe_keys)))
            .order_by(outbox.c.created_at, outbox.c.id)
        )
        with self._reading() as db:
            return [_message(row) for row in db.execute(query)]

    def reconnects_queued(
        self, account_id: str, since: datetime, limit: int
    ) -> list[QueuedMessage]:
        # The outbox has no index on the account: this reads the account's relay commands by
        # a scan of the outbox's relay_command rows (one officer's look-up, not a hot path).
        query = (
            select(outbox)
            .where(
                and_(
                    outbox.c.kind == "relay_command",
                    outbox.c.account_id == account_id,
                    outbox.c.dedupe_key.like(
                        f"relay:reconnect:{_escaped(account_id)}:%", escape="\\"
                    ),
                    outbox.c.created_at >= since,
                )
            )
            .order_by(outbox.c.created_at, outbox.c.id)
            .limit(limit)
        )
        with self._reading() as db:
            return [_message(row) for row in db.execute(query)]

    def relay_commands(self, command_ids: Collection[str]) -> dict[str, RelayCommandLife]:
        if not command_ids:
            return {}
        query = select(relay_commands).where(relay_commands.c.command_id.in_(sorted(command_ids)))
        with self._reading() as db:
            return {
                row.command_id: RelayCommandLife(
                    row.command_id,
                    row.action,
                    row.status,
                    row.created_at,
                    int(row.attempts),
                    row.last_sent_at,
                    row.finished_at,
                    row.detail,
                )
                for row in db.execute(query)
            }


def _message(row: Any) -> QueuedMessage:
    return QueuedMessage(row.dedupe_key, row.kind, row.created_at, row.status, dict(row.payload))


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
