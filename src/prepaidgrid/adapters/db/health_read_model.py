"""What the officers' health page reads: is the database answering, how fresh are the meter
data and the billing run, what waits in the outbox, how the SMS and e-mail gateways fare,
and is the platform in safe mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, Engine, and_, func, select
from sqlalchemy.exc import SQLAlchemyError

from prepaidgrid.adapters.db.tables import (
    daily_charges,
    deliveries,
    meter_messages,
    notification_attempts,
    outbox,
    payment_orders,
    platform_flags,
)

RECENT_ATTEMPTS = 3  # a channel whose last 3 attempts all failed is failing


@dataclass(frozen=True, slots=True)
class ChannelFacts:
    """How one channel (sms, email) fares."""

    recent_outcomes: tuple[str, ...]  # the last RECENT_ATTEMPTS attempts, newest first
    failing_since: datetime | None  # the first failure after the last success
    oldest_due_at: datetime | None  # the earliest due time of a message not yet delivered
    last_error: str


@dataclass(frozen=True, slots=True)
class HealthFacts:
    is_database_up: bool
    last_meter_message_at: datetime | None
    last_billed_day: date | None
    outbox_waiting: dict[str, int]  # kind -> messages not yet sent
    oldest_waiting_at: datetime | None
    safe_mode_since: datetime | None
    safe_mode_reason: str
    oldest_unsettled_order_at: datetime | None = None  # a gateway order still waiting
    # sms, and email once any e-mail was tried (issue 7)
    channels: dict[str, ChannelFacts] = field(default_factory=dict)


def health_facts(engine: Engine) -> HealthFacts:
    """One short read; a database that does not answer is itself the finding."""
    try:
        with engine.connect() as db:
            last_message = db.execute(select(func.max(meter_messages.c.received_at))).scalar()
            last_billed = db.execute(select(func.max(daily_charges.c.bill_day))).scalar()
            waiting = {
                kind: int(count)
                for kind, count in db.execute(
                    select(outbox.c.kind, func.count())
                    .where(outbox.c.status == "pending")
                    .group_by(outbox.c.kind)
                )
            }
            # SMS and e-mail the dispatcher has taken on are `queued`, and judged by their
            # channel's check (a message deferred for quiet hours is not late).
            oldest = db.execute(
                select(func.min(outbox.c.created_at)).where(outbox.c.status == "pending")
            ).scalar()
            channels = {name: _channel(db, name) for name in _channels_in_use(db)}
            unsettled = db.execute(
                select(func.min(payment_orders.c.created_at)).where(
                    payment_orders.c.status.in_(("created", "pending"))
                )
            ).scalar()
            flag = db.execute(
                select(platform_flags.c.since, platform_flags.c.reason).where(
                    platform_flags.c.name == "safe_mode", platform_flags.c.is_on.is_(True)
                )
            ).first()
    except SQLAlchemyError:
        return HealthFacts(False, None, None, {}, None, None, "")
    return HealthFacts(
        True,
        last_message,
        last_billed,
        waiting,
        oldest,
        flag.since if flag else None,
        flag.reason if flag else "",
        unsettled,
        channels,
    )


def _channels_in_use(db: Connection) -> list[str]:
    """SMS always; e-mail once the dispatcher has tried to send one (an index lookup)."""
    has_email = db.execute(
        select(notification_attempts.c.id)
        .where(notification_attempts.c.channel == "email")
        .limit(1)
    ).first()
    return ["sms", "email"] if has_email else ["sms"]


def _channel(db: Connection, channel: str) -> ChannelFacts:
    attempts = notification_attempts
    recent = db.execute(
        select(attempts.c.outcome, attempts.c.detail)
        .where(attempts.c.channel == channel)
        .order_by(attempts.c.at.desc(), attempts.c.id.desc())
        .limit(RECENT_ATTEMPTS)
    ).all()
    last_sent = db.execute(
        select(func.max(attempts.c.at)).where(
            attempts.c.channel == channel, attempts.c.outcome == "sent"
        )
    ).scalar()
    failed_after = [attempts.c.channel == channel, attempts.c.outcome != "sent"]
    if last_sent is not None:
        failed_after.append(attempts.c.at > last_sent)
    failing_since = db.execute(select(func.min(attempts.c.at)).where(and_(*failed_after))).scalar()
    oldest_due = db.execute(
        select(func.min(deliveries.c.next_attempt_at)).where(
            deliveries.c.channel == channel,
            deliveries.c.status.in_(("pending", "deferred")),
        )
    ).scalar()
    return ChannelFacts(
        tuple(row.outcome for row in recent),
        failing_since,
        oldest_due,
        next((row.detail for row in recent if row.outcome != "sent"), ""),
    )
