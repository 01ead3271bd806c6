"""Alerts after a day is billed: low balance (once per recharge cycle) and the daily
consumption summary (for those who opted in), queued in the outbox in bulk.

The facts come from one set-based query over the accounts billed for the day (no query
per account); this module only turns its rows into outbox messages, which are written in
batches, each batch one transaction. Dedupe keys make a second run harmless:

    low balance    sms|email:low_balance:{account}:{cycle}   cycle: the id of the last
                                                            credited payment ("opening"
                                                            before the first)
    daily summary  sms|email:daily_summary:{account}:{day}

Whether the SMS goes now, after the quiet hours, or not at all (the consumer switched SMS
off) is the dispatcher's decision (services/notify.py): every message lands in the portal
inbox either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from prepaidgrid.domain.alerts import days_label, days_left, is_low, share_percent
from prepaidgrid.domain.notifications import Message, Template
from prepaidgrid.domain.units import format_rupees
from prepaidgrid.services.ports import Clock, OutboxMessage, UnitOfWork

WRITE_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """One account billed for the day, as the alert rules need it."""

    account_id: str
    mobile: str
    email: str | None
    language: str
    balance_paise: int
    recent_total_paise: int  # the charges of the last FORECAST_DAYS billed days
    recent_days: int
    used_wh: int  # the day's
    charge_paise: int  # the day's
    last_payment_id: int | None  # the last credited recharge: names the cycle
    last_recharge_paise: int
    threshold_paise: int
    is_low_balance_on: bool
    is_daily_summary_on: bool
    is_email_on: bool


class AlertStore(Protocol):
    def alert_facts(self, day: date) -> list[AlertFacts]:
        """In one query: the accounts billed for `day` that are low (below their threshold,
        above zero, low-balance alerts on) or want the daily summary."""
        ...

    def add_messages(self, messages: list[OutboxMessage]) -> int:
        """Queue messages in bulk, skipping dedupe keys queued before; how many were new."""
        ...


class AlertUnitOfWork(UnitOfWork, Protocol):
    @property
    def alerts(self) -> AlertStore: ...


@dataclass(frozen=True, slots=True)
class AlertRun:
    day: date
    low_balance: int  # messages newly queued (SMS and e-mail)
    summaries: int


def queue_alerts(
    day: date,
    new_uow: Callable[[], AlertUnitOfWork],
    clock: Clock,
    *,
    new_reader: Callable[[], AlertUnitOfWork] | None = None,
) -> AlertRun:
    """Queue the day's low-balance alerts and daily summaries (idempotent). The facts are
    read with `new_reader` (a transaction that does not take SQLite's write lock; default
    `new_uow`)."""
    at = clock.now()
    with (new_reader or new_uow)() as uow:
        facts = uow.alerts.alert_facts(day)
    low: list[OutboxMessage] = []
    summaries: list[OutboxMessage] = []
    for fact in facts:
        days = days_label(days_left(fact.balance_paise, fact.recent_total_paise, fact.recent_days))
        if fact.is_low_balance_on and is_low(fact.balance_paise, fact.threshold_paise):
            low += _messages(fact, Template.LOW_BALANCE, _low_params(fact, days), _cycle(fact), at)
        if fact.is_daily_summary_on:
            params = _summary_params(fact, day, days)
            summaries += _messages(fact, Template.DAILY_SUMMARY, params, day.isoformat(), at)
    queued = {"low": 0, "summaries": 0}
    for name, messages in (("low", low), ("summaries", summaries)):
        for first in range(0, len(messages), WRITE_BATCH):
            with new_uow() as uow:
                queued[name] += uow.alerts.add_messages(messages[first : first + WRITE_BATCH])
                uow.commit()
    return AlertRun(day, queued["low"], queued["summaries"])


def _cycle(fact: AlertFacts) -> str:
    return "opening" if fact.last_payment_id is None else str(fact.last_payment_id)


def _low_params(fact: AlertFacts, days: str) -> dict[str, str]:
    return {
        "account_id": fact.account_id,
        "balance": format_rupees(fact.balance_paise),
        "share": str(share_percent(fact.balance_paise, fact.last_recharge_paise)),
        "recharge": format_rupees(fact.last_recharge_paise),
        "days": days,
    }


def _summary_params(fact: AlertFacts, day: date, days: str) -> dict[str, str]:
    tenths = (fact.used_wh + 50) // 100  # kWh to one decimal, half up
    return {
        "account_id": fact.account_id,
        "day": day.strftime("%d-%m-%Y"),
        "units": f"{tenths // 10}.{tenths % 10}",
        "charge": format_rupees(fact.charge_paise),
        "balance": format_rupees(fact.balance_paise),
        "days": days,
    }


def _messages(
    fact: AlertFacts, template: Template, params: dict[str, str], key: str, at: datetime
) -> list[OutboxMessage]:
    """The SMS, and the e-mail too when the consumer has an address and wants e-mail."""
    message = Message(template, fact.language, params)
    common = {
        "template": template.value,
        "language": fact.language,
        "params": params,
        "text": message.render(),
    }
    dedupe = f"{template.value}:{fact.account_id}:{key}"
    out = [
        OutboxMessage(
            f"sms:{dedupe}", "sms", fact.account_id, {**common, "mobile": fact.mobile}, at
        )
    ]
    if fact.email and fact.is_email_on:
        email = {**common, "to": fact.email, "subject": message.subject()}
        out.append(OutboxMessage(f"email:{dedupe}", "email", fact.account_id, email, at))
    return out
