"""The platform's health as officers see it: each check, whether it holds, and since when
it has not. The health page lists them; every officer page shows a banner while one fails.

    database      answers
    head-end      a meter message within the last 30 minutes
    billing run   yesterday (IST) billed
    gateway       no app/website order left waiting on the gateway for over 15 minutes
    outbox        nothing waiting to be sent for over 15 minutes (relay commands, and SMS
                  or e-mail the dispatcher has not taken on)
    SMS gateway   its last 3 attempts did not all fail, and no SMS is over 15 minutes
                  past its due time (a message deferred for quiet hours is due at their end)
    e-mail        the same, once any e-mail has been tried
    safe mode     off
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from prepaidgrid.adapters.db.health_read_model import RECENT_ATTEMPTS, ChannelFacts, HealthFacts
from prepaidgrid.domain.units import IST

HEAD_END_LAG_LIMIT = timedelta(minutes=30)
WAITING_LIMIT = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    is_ok: bool
    detail: str
    since: datetime | None = None  # when it went wrong, where that is known


def health_checks(facts: HealthFacts, now: datetime) -> list[Check]:
    if not facts.is_database_up:
        return [Check("database", False, "no answer", now)]
    yesterday = now.astimezone(IST).date() - timedelta(days=1)
    last_message = facts.last_meter_message_at
    return [
        Check("database", True, "answers"),
        Check(
            "head-end",
            last_message is not None and now - last_message <= HEAD_END_LAG_LIMIT,
            _ago(last_message, now, "last meter message"),
            last_message,
        ),
        Check(
            "billing run",
            facts.last_billed_day is not None and facts.last_billed_day >= yesterday,
            f"last billed day {facts.last_billed_day or 'never'}",
        ),
        Check(
            "gateway",
            _fresh(facts.oldest_unsettled_order_at, now),
            _ago(facts.oldest_unsettled_order_at, now, "oldest order waiting"),
            facts.oldest_unsettled_order_at,
        ),
        Check(
            "outbox",
            _fresh(facts.oldest_waiting_at, now),
            _ago(facts.oldest_waiting_at, now, "oldest message waiting"),
            facts.oldest_waiting_at,
        ),
        *(
            _channel_check(name, facts.channels[channel], now)
            for channel, name in (("sms", "SMS gateway"), ("email", "e-mail"))
            if channel in facts.channels
        ),
        Check(
            "safe mode",
            facts.safe_mode_since is None,
            facts.safe_mode_reason or "off",
            facts.safe_mode_since,
        ),
    ]


def _channel_check(name: str, channel: ChannelFacts, now: datetime) -> Check:
    recent = channel.recent_outcomes
    if len(recent) == RECENT_ATTEMPTS and "sent" not in recent:
        since = channel.failing_since
        return Check(
            name,
            False,
            f"the last {len(recent)} attempts failed{_since(since)}: {channel.last_error}",
            since,
        )
    due = channel.oldest_due_at
    if due is not None and now - due > WAITING_LIMIT:
        return Check(name, False, _ago(due, now, "a message due"), due)
    return Check(name, True, f"last attempt: {recent[0] if recent else 'none'}")


def _since(at: datetime | None) -> str:
    if at is None:
        return ""
    return f" since {at.astimezone(IST).strftime('%d-%m-%Y %H:%M')} IST"


def _fresh(oldest: datetime | None, now: datetime) -> bool:
    return oldest is None or now - oldest <= WAITING_LIMIT


def _ago(at: datetime | None, now: datetime, what: str) -> str:
    if at is None:
        return f"{what}: none"
    return f"{what}: {int((now - at).total_seconds() // 60)} min ago"
