"""Deliver the SMS and e-mail of the outbox: quiet hours and channel switches respected,
every attempt recorded, failures retried with backoff, and a copy in the portal inbox.

One pass (`dispatch_notifications`):

1. enrol: outbox messages of kind sms/email without a delivery get one (due now) and an
   inbox entry for their account (once per message, whatever its channels);
2. claim: up to `batch` due deliveries, leased (their due time moved to the lease's end)
   in one short transaction: on PostgreSQL `FOR UPDATE SKIP LOCKED`, on SQLite under the
   write lock of `BEGIN IMMEDIATE`, so several dispatchers never take the same message;
3. send each, outside any transaction (a slow gateway holds no lock that billing needs),
   and record the outcome in its own transaction.

A crash between sending and recording leaves the delivery leased: when the lease ends it
is sent once more (at-least-once). The SMS gateway receives the outbox key as its
idempotency key and the e-mail carries it in its Message-ID, so a receiver can drop the
repeat. One bad message never stops the loop: whatever it raises is recorded as a failure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from prepaidgrid.domain.alerts import (
    NOT_IN_INBOX,
    Verdict,
    delivery_decision,
    is_given_up,
    retry_delay,
)
from prepaidgrid.domain.errors import UnknownAccount
from prepaidgrid.domain.notifications import AlertPreferences
from prepaidgrid.services.care import CareUnitOfWork
from prepaidgrid.services.ports import (
    Clock,
    Email,
    Notifiers,
    OutboxMessage,
    SendRefused,
    Sms,
)

log = logging.getLogger("prepaidgrid.notify")

CHANNELS = ("sms", "email")
LEASE = timedelta(minutes=5)  # a claimed message not recorded by then is due again
ENROL_BATCH = 1_000


@dataclass(frozen=True, slots=True)
class NewDelivery:
    outbox_id: int
    channel: str
    account_id: str | None
    due_at: datetime


@dataclass(frozen=True, slots=True)
class InboxEntry:
    account_id: str
    source_key: str  # the outbox key without its channel: one entry for SMS and e-mail
    template: str
    language: str
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Claimed:
    """A due delivery, leased to this dispatcher."""

    outbox_id: int
    message: OutboxMessage
    attempts: int  # tries so far
    preferences: AlertPreferences


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one claimed delivery."""

    outbox_id: int
    channel: str
    at: datetime
    status: str  # pending | deferred | sent | failed | skipped
    attempts: int
    next_attempt_at: datetime
    attempt: str | None = None  # sent | retry | refused: a try was made; None: none was
    error: str = ""
    provider_message_id: str | None = None


class NotificationStore(Protocol):
    def unenrolled(self, limit: int) -> list[tuple[int, OutboxMessage]]:
        """Outbox SMS and e-mail still waiting that have no delivery yet, oldest first."""
        ...

    def enrol(self, deliveries: list[NewDelivery], entries: list[InboxEntry]) -> None:
        """Add deliveries and inbox entries; any that exist already are left as they are."""
        ...

    def claim(self, at: datetime, lease_until: datetime, limit: int) -> list[Claimed]:
        """Due deliveries (pending or deferred, due at or before `at`), oldest due first,
        locked against other dispatchers and leased until `lease_until`."""
        ...

    def record(self, outcome: Outcome) -> None:
        """Store the outcome; a final one (sent, failed, skipped) also closes the outbox row."""
        ...

    def inbox(self, account_id: str, limit: int) -> list[InboxEntry]:
        """The account's inbox, newest first."""
        ...


class NotifyUnitOfWork(CareUnitOfWork, Protocol):
    @property
    def notifications(self) -> NotificationStore: ...


@dataclass
class DispatchRun:
    enrolled: int = 0
    claimed: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    unrecorded: int = 0  # sent or not, the outcome could not be stored: due again after the lease

    def as_dict(self) -> dict[str, object]:
        return {
            "enrolled": self.enrolled,
            "claimed": self.claimed,
            "by_status": dict(sorted(self.by_status.items())),
            "unrecorded": self.unrecorded,
        }


def source_key(dedupe_key: str) -> str:
    """`sms:low_balance:A-1:7` and `email:low_balance:A-1:7` are one message to the consumer."""
    channel, _, rest = dedupe_key.partition(":")
    return rest if channel in CHANNELS and rest else dedupe_key


def _inbox_entry(message: OutboxMessage) -> InboxEntry | None:
    template = str(message.payload.get("template", ""))
    text = message.payload.get("text")
    if not message.account_id or template in NOT_IN_INBOX or not isinstance(text, str):
        return None
    return InboxEntry(
        message.account_id,
        source_key(message.dedupe_key),
        template,
        str(message.payload.get("language", "en")),
        text,
        message.created_at,
    )


def enrol_new_messages(uow: NotifyUnitOfWork, at: datetime, limit: int = ENROL_BATCH) -> int:
    """Give waiting outbox SMS and e-mail a delivery and an inbox entry (inside `uow`)."""
    found = uow.notifications.unenrolled(limit)
    deliveries = [NewDelivery(i, m.kind, m.account_id, at) for i, m in found]
    entries = [entry for _, m in found if (entry := _inbox_entry(m)) is not None]
    uow.notifications.enrol(deliveries, entries)
    return len(deliveries)


def dispatch_notifications(
    new_uow: Callable[[], NotifyUnitOfWork],
    clock: Clock,
    notifiers: Notifiers,
    jitter: Callable[[], float],
    *,
    batch: int = 50,
    lease: timedelta = LEASE,
    parallel: int = 1,
) -> DispatchRun:
    """One pass: enrol new messages, claim the due ones, send and record each.

    `parallel` > 1 sends that many at once (threads: a gateway's latency, not our CPU, is
    what limits a dispatcher); outcomes are recorded one by one as they come in."""
    run = DispatchRun()
    at = clock.now()
    with new_uow() as uow:
        run.enrolled = enrol_new_messages(uow, at)
        uow.commit()
    with new_uow() as uow:
        claimed = uow.notifications.claim(at, at + lease, batch)
        uow.commit()
    run.claimed = len(claimed)
    for one, outcome in _delivered(claimed, notifiers, clock, jitter, parallel):
        try:
            with new_uow() as uow:
                uow.notifications.record(outcome)
                uow.commit()
        except Exception:  # the database went away: the lease makes it due again
            log.exception("could not record the delivery of outbox message %d", one.outbox_id)
            run.unrecorded += 1
            continue
        run.by_status[outcome.status] = run.by_status.get(outcome.status, 0) + 1
    return run


def _delivered(
    claimed: list[Claimed],
    notifiers: Notifiers,
    clock: Clock,
    jitter: Callable[[], float],
    parallel: int,
) -> Iterator[tuple[Claimed, Outcome]]:
    if parallel <= 1 or len(claimed) <= 1:
        for one in claimed:
            yield one, deliver(one, notifiers, clock.now(), jitter)
        return
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="notify") as pool:
        futures = {
            pool.submit(deliver, one, notifiers, clock.now(), jitter): one for one in claimed
        }
        for future in as_completed(futures):
            yield futures[future], future.result()


def deliver(
    claimed: Claimed, notifiers: Notifiers, at: datetime, jitter: Callable[[], float]
) -> Outcome:
    """Decide, send and judge one message; never raises."""
    message, channel = claimed.message, claimed.message.kind
    payload = message.payload
    template = str(payload.get("template", ""))
    decision = delivery_decision(template, channel, claimed.preferences, at)

    def outcome(
        status: str,
        attempts: int,
        due: datetime,
        attempt: str | None = None,
        error: str = "",
        provider_message_id: str | None = None,
    ) -> Outcome:
        return Outcome(
            claimed.outbox_id,
            channel,
            at,
            status,
            attempts,
            due,
            attempt,
            error,
            provider_message_id,
        )

    if decision.verdict is Verdict.SKIP:
        return outcome("skipped", claimed.attempts, at)
    if decision.verdict is Verdict.DEFER and decision.until is not None:
        return outcome("deferred", claimed.attempts, decision.until)
    tries = claimed.attempts + 1
    try:
        provider_id = _send(message, notifiers)
    except SendRefused as refused:
        return outcome("failed", tries, at, attempt="refused", error=_said(refused))
    except Exception as error:  # SendFailed, or anything a gateway adapter let through
        if is_given_up(tries):
            return outcome("failed", tries, at, attempt="retry", error=_said(error))
        due = at + retry_delay(tries, jitter())
        return outcome("pending", tries, due, attempt="retry", error=_said(error))
    return outcome("sent", tries, at, attempt="sent", provider_message_id=provider_id)


def _send(message: OutboxMessage, notifiers: Notifiers) -> str:
    payload = message.payload
    text, language = str(payload.get("text", "")), str(payload.get("language", "en"))
    if not text:
        raise SendRefused("the message has no text")
    if message.kind == "sms":
        mobile = payload.get("mobile")
        if not isinstance(mobile, str) or not mobile:
            raise SendRefused("the message has no mobile number")
        sms = Sms(mobile, text, str(payload.get("template", "")), language, message.dedupe_key)
        return notifiers.sms.send_sms(sms)
    if message.kind == "email":
        to, subject = payload.get("to"), payload.get("subject")
        if not isinstance(to, str) or not to:
            raise SendRefused("the message has no e-mail address")
        if notifiers.mailer is None:
            raise SendRefused("e-mail is not configured (PREPAIDGRID_SMTP_HOST)")
        email = Email(to, str(subject or "prepaidgrid"), text, language, message.dedupe_key)
        return notifiers.mailer.send_email(email)
    raise SendRefused(f"no channel delivers {message.kind!r} messages")


def _said(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


# -- the portal inbox ---------------------------------------------------------------------------


def inbox_of(
    account_id: str, mobile: str, uow: NotifyUnitOfWork, limit: int = 100
) -> list[InboxEntry]:
    """What the account's consumer was told, newest first; only for its own mobile."""
    with uow:
        contact = uow.care.contact_of(account_id)
        if contact is None or contact.mobile != mobile:
            raise UnknownAccount(f"no account {account_id} is registered to this mobile number")
        return uow.notifications.inbox(account_id, limit)
