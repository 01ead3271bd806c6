"""What the officers' health page reads: is the database answering, how fresh are the meter
data and the billing run, what waits in the outbox, and is the platform in safe mode."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from prepaidgrid.adapters.db.tables import (
    daily_charges,
    meter_messages,
    outbox,
    payment_orders,
    platform_flags,
)


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
            oldest = db.execute(
                select(func.min(outbox.c.created_at)).where(outbox.c.status == "pending")
            ).scalar()
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
    )
