"""Notification delivery in SQL: deliveries and their attempts, the portal inbox, and the
one query behind the day's alerts (services/notify.py, services/alerts.py)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection as SqlConnection
from sqlalchemy import (
    Engine,
    RowMapping,
    and_,
    func,
    insert,
    or_,
    select,
    true,
    update,
)

from prepaidgrid.adapters.db.bulk import insert_new, insert_new_returning, instant_for
from prepaidgrid.adapters.db.repositories import OUTBOX_COLUMNS, outbox_rows
from prepaidgrid.adapters.db.tables import (
    accounts,
    alert_preferences,
    daily_charges,
    deliveries,
    inbox_messages,
    ledger_accounts,
    notification_attempts,
    outbox,
    payments,
)
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.domain.alerts import FORECAST_DAYS
from prepaidgrid.domain.notifications import DEFAULT_LOW_BALANCE_PAISE, AlertPreferences
from prepaidgrid.services.alerts import AlertFacts
from prepaidgrid.services.notify import CHANNELS, Claimed, InboxEntry, NewDelivery, Outcome
from prepaidgrid.services.ports import OutboxMessage

FINAL = ("sent", "failed", "skipped")


class SqlNotifications:
    def __init__(self, connection: SqlConnection) -> None:
        self._db = connection

    # -- delivery --

    def unenrolled(self, limit: int) -> list[tuple[int, OutboxMessage]]:
        rows = self._db.execute(
            select(outbox)
            .outerjoin(deliveries, deliveries.c.outbox_id == outbox.c.id)
            .where(
                outbox.c.status == "pending",
                outbox.c.kind.in_(CHANNELS),
                deliveries.c.outbox_id.is_(None),
            )
            .order_by(outbox.c.id)
            .limit(limit)
        ).mappings()
        return [(int(row["id"]), _message(row)) for row in rows]

    def enrol(self, new: list[NewDelivery], entries: list[InboxEntry]) -> None:
        """Also marks the outbox rows `queued`: `pending` then means "no dispatcher has
        taken it on" (the health page's outbox check), and the next pass finds new rows by
        the status index without reading past the deferred ones."""
        instant = instant_for(self._db)
        insert_new(
            self._db,
            deliveries,
            ("outbox_id", "channel", "account_id", "next_attempt_at"),
            [(d.outbox_id, d.channel, d.account_id, instant(d.due_at)) for d in new],
        )
        insert_new(
            self._db,
            inbox_messages,
            ("account_id", "source_key", "template", "language", "text", "created_at"),
            [
                (e.account_id, e.source_key, e.template, e.language, e.text, instant(e.created_at))
                for e in entries
            ],
        )
        if new:
            self._db.execute(
                update(outbox)
                .where(outbox.c.id.in_([d.outbox_id for d in new]), outbox.c.status == "pending")
                .values(status="queued")
            )

    def claim(self, at: datetime, lease_until: datetime, limit: int) -> list[Claimed]:
        prefs = alert_preferences
        rows = (
            self._db.execute(
                select(
                    deliveries.c.outbox_id,
                    deliveries.c.attempts,
                    outbox.c.dedupe_key,
                    outbox.c.kind,
                    outbox.c.account_id,
                    outbox.c.payload,
                    outbox.c.created_at,
                    prefs.c.is_daily_summary_on,
                    prefs.c.is_low_balance_on,
                    prefs.c.low_balance_paise,
                    prefs.c.is_sms_on,
                    prefs.c.is_email_on,
                    prefs.c.quiet_from_minute,
                    prefs.c.quiet_until_minute,
                )
                .select_from(
                    deliveries.join(outbox, outbox.c.id == deliveries.c.outbox_id).outerjoin(
                        prefs, prefs.c.account_id == deliveries.c.account_id
                    )
                )
                .where(
                    deliveries.c.status.in_(("pending", "deferred")),
                    deliveries.c.next_attempt_at <= at,
                )
                .order_by(deliveries.c.next_attempt_at, deliveries.c.outbox_id)
                .limit(limit)
                .with_for_update(of=deliveries, skip_locked=True)
            )
            .mappings()
            .all()
        )
        if not rows:
            return []
        self._db.execute(
            update(deliveries)
            .where(deliveries.c.outbox_id.in_([row["outbox_id"] for row in rows]))
            .values(next_attempt_at=lease_until)
        )
        return [
            Claimed(int(row["outbox_id"]), _message(row), int(row["attempts"]), _preferences(row))
            for row in rows
        ]

    def record(self, outcome: Outcome) -> None:
        values: dict[str, Any] = {
            "status": outcome.status,
            "attempts": outcome.attempts,
            "next_attempt_at": outcome.next_attempt_at,
        }
        if outcome.attempt is not None:
            values |= {"last_attempt_at": outcome.at, "last_error": outcome.error}
            self._db.execute(
                insert(notification_attempts).values(
                    outbox_id=outcome.outbox_id,
                    channel=outcome.channel,
                    at=outcome.at,
                    outcome=outcome.attempt,
                    detail=outcome.error or (outcome.provider_message_id or ""),
                )
            )
        if outcome.status == "sent":
            values |= {
                "delivered_at": outcome.at,
                "provider_message_id": outcome.provider_message_id,
            }
        self._db.execute(
            update(deliveries).where(deliveries.c.outbox_id == outcome.outbox_id).values(values)
        )
        if outcome.status in FINAL:
            self._db.execute(
                update(outbox).where(outbox.c.id == outcome.outbox_id).values(status=outcome.status)
            )

    def inbox(self, account_id: str, limit: int) -> list[InboxEntry]:
        rows = self._db.execute(
            select(inbox_messages)
            .where(inbox_messages.c.account_id == account_id)
            .order_by(inbox_messages.c.created_at.desc(), inbox_messages.c.id.desc())
            .limit(limit)
        ).mappings()
        return [
            InboxEntry(
                row["account_id"],
                row["source_key"],
                row["template"],
                row["language"],
                row["text"],
                row["created_at"],
            )
            for row in rows
        ]

    # -- alerts --

    def alert_facts(self, day: date) -> list[AlertFacts]:
        """Driven by the wallets (one row per account, whatever the history's length), not
        by `daily_charges`, which has no index on the day alone: the day's charge, the
        recent days and the last payment are index lookups for the few accounts that are
        low or want a summary."""
        prefs, wallet, today, recent, paid = (
            alert_preferences,
            ledger_accounts.alias("wallet"),
            daily_charges.alias("today"),
            daily_charges.alias("recent"),
            payments.alias("paid"),
        )
        account = wallet.c.account_id
        threshold = func.coalesce(prefs.c.low_balance_paise, DEFAULT_LOW_BALANCE_PAISE)
        is_low_on = func.coalesce(prefs.c.is_low_balance_on, true())
        is_summary_on = func.coalesce(prefs.c.is_daily_summary_on, False)
        window = and_(
            recent.c.account_id == account,
            recent.c.bill_day > day - timedelta(days=FORECAST_DAYS),
            recent.c.bill_day <= day,
        )

        def of_today(column: str) -> Any:
            return (
                select(today.c[column])
                .where(today.c.account_id == account, today.c.bill_day == day)
                .scalar_subquery()
                .label(column)
            )

        facts = (
            select(
                account.label("account_id"),
                accounts.c.mobile,
                accounts.c.email,
                accounts.c.language,
                wallet.c.balance_paise,
                select(func.sum(recent.c.total_paise))
                .where(window)
                .scalar_subquery()
                .label("recent_total_paise"),
                select(func.count()).where(window).scalar_subquery().label("recent_days"),
                of_today("used_wh"),
                of_today("total_paise"),
                select(func.max(paid.c.id))
                .where(paid.c.account_id == account, paid.c.status == "credited")
                .scalar_subquery()
                .label("last_payment_id"),
                threshold.label("threshold_paise"),
                is_low_on.label("is_low_balance_on"),
                is_summary_on.label("is_daily_summary_on"),
                func.coalesce(prefs.c.is_email_on, False).label("is_email_on"),
            )
            .select_from(
                wallet.join(accounts, accounts.c.account_id == account).outerjoin(
                    prefs, prefs.c.account_id == account
                )
            )
            .where(
                wallet.c.kind == "wallet",
                or_(
                    and_(
                        is_low_on,
                        wallet.c.balance_paise > 0,
                        wallet.c.balance_paise < threshold,
                    ),
                    is_summary_on,
                ),
            )
        ).subquery("facts")
        rows = self._db.execute(
            select(facts, payments.c.amount_paise.label("last_recharge_paise"))
            .outerjoin(payments, payments.c.id == facts.c.last_payment_id)
            .where(facts.c.used_wh.is_not(None))  # billed for the day
            .order_by(facts.c.account_id)
        ).mappings()
        return [
            AlertFacts(
                account_id=row["account_id"],
                mobile=row["mobile"],
                email=row["email"],
                language=row["language"],
                balance_paise=int(row["balance_paise"]),
                recent_total_paise=int(row["recent_total_paise"] or 0),
                recent_days=int(row["recent_days"]),
                used_wh=int(row["used_wh"]),
                charge_paise=int(row["total_paise"]),
                last_payment_id=row["last_payment_id"],
                last_recharge_paise=int(row["last_recharge_paise"] or 0),
                threshold_paise=int(row["threshold_paise"]),
                is_low_balance_on=bool(row["is_low_balance_on"]),
                is_daily_summary_on=bool(row["is_daily_summary_on"]),
                is_email_on=bool(row["is_email_on"]),
            )
            for row in rows
        ]

    def add_messages(self, messages: list[OutboxMessage]) -> int:
        inserted = insert_new_returning(
            self._db, outbox, OUTBOX_COLUMNS, outbox_rows(self._db, messages), "dedupe_key"
        )
        return len(inserted)


class SqlNotifyUnitOfWork(SqlUnitOfWork):
    """The unit of work with the notification store (`notifications`, `alerts`) bound to it."""

    def __enter__(self) -> SqlNotifyUnitOfWork:
        super().__enter__()
        assert self._connection is not None
        self._notifications = SqlNotifications(self._connection)
        return self

    @property
    def notifications(self) -> SqlNotifications:
        return self._notifications

    @property
    def alerts(self) -> SqlNotifications:
        return self._notifications


def new_notify_uow(engine: Engine, *, read_only: bool = False) -> SqlNotifyUnitOfWork:
    return SqlNotifyUnitOfWork(engine, read_only=read_only)


def _message(row: RowMapping) -> OutboxMessage:
    payload = row["payload"]
    if isinstance(payload, str):  # a row bulk-inserted as JSON text, read back on SQLite
        payload = json.loads(payload)
    return OutboxMessage(
        row["dedupe_key"], row["kind"], row["account_id"], payload, row["created_at"]
    )


def _preferences(row: RowMapping) -> AlertPreferences:
    if row["is_sms_on"] is None:
        return AlertPreferences()
    return AlertPreferences(
        is_daily_summary_on=bool(row["is_daily_summary_on"]),
        is_low_balance_on=bool(row["is_low_balance_on"]),
        low_balance_paise=int(row["low_balance_paise"]),
        is_sms_on=bool(row["is_sms_on"]),
        is_email_on=bool(row["is_email_on"]),
        quiet_from=_time(int(row["quiet_from_minute"])),
        quiet_until=_time(int(row["quiet_until_minute"])),
    )


def _time(minute: int) -> time:
    return time(minute // 60, minute % 60)


def delivery_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """channel -> status -> deliveries, for `prepaidgrid notify status`."""
    counts: dict[str, dict[str, int]] = {}
    with engine.connect() as db:
        for channel, status, count in db.execute(
            select(deliveries.c.channel, deliveries.c.status, func.count()).group_by(
                deliveries.c.channel, deliveries.c.status
            )
        ):
            counts.setdefault(channel, {})[status] = int(count)
    return counts
