"""The life of one payment in one place, and where it waits if it is not finished.

    channel events (ordered, pending, confirmed, failed, refused ...)
      -> received (the payments row) -> credited (its recharge journal) [-> reversed]
      -> SMS queued (sent or not) -> reconnect queued -> sent -> acknowledged | failed | expired
                                     (a lapsed reconnect is queued again at once: followed)

The reconnect that belongs to a payment is the one `apply_recharge` queued in the same
transaction as the credit: a `relay:reconnect:{account}:...` outbox message of the
payment's account created at the credit journal's `posted_at` (one clock reading stamps
both). Its payload's `command_id` is the relay command's id in the head-end's log, and a
reissue after a lapse carries `:after:{command_id}` at the end of its dedupe key.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from prepaidgrid.domain.errors import UnknownPayment
from prepaidgrid.domain.ledger import PaymentRef, recharge_key, reversal_key
from prepaidgrid.domain.units import IST, format_rupees

MAX_RECONNECTS = 50  # reissues followed for one credit: far more than a real meter needs


@dataclass(frozen=True, slots=True)
class ChannelEvent:
    stage: str
    at: datetime
    detail: str


@dataclass(frozen=True, slots=True)
class PaymentFacts:
    account_id: str
    amount_paise: int
    arrears_share_paise: int
    status: str  # pending, credited, reversed, failed
    received_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    dedupe_key: str
    kind: str  # sms, relay_command
    created_at: datetime
    status: str  # pending, sent
    payload: Mapping[str, Any]

    @property
    def command_id(self) -> str:
        return str(self.payload.get("command_id", ""))


@dataclass(frozen=True, slots=True)
class RelayCommandLife:
    command_id: str
    action: str
    status: str  # queued, sent, acknowledged, failed, expired
    created_at: datetime
    attempts: int
    last_sent_at: datetime | None
    finished_at: datetime | None
    detail: str


class PaymentHistory(Protocol):
    def channel_events(self, payment: PaymentRef) -> list[ChannelEvent]:
        """What the channel services appended for the payment, oldest first."""
        ...

    def payment(self, payment: PaymentRef) -> PaymentFacts | None: ...

    def journals_posted(self, keys: Sequence[str]) -> dict[str, datetime]:
        """posted_at of those journals (by idempotency key) that exist."""
        ...

    def messages(self, dedupe_keys: Sequence[str]) -> list[QueuedMessage]:
        """Outbox messages with those dedupe keys, oldest first."""
        ...

    def reconnects_queued(
        self, account_id: str, since: datetime, limit: int
    ) -> list[QueuedMessage]:
        """The account's reconnect commands queued in the outbox at or after `since`."""
        ...

    def relay_commands(self, command_ids: Collection[str]) -> dict[str, RelayCommandLife]: ...


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    at: datetime
    source: str  # channel, payments, ledger, sms, relay
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "stage": self.name,
            "at": self.at.isoformat(),
            "at_ist": _ist(self.at),
            "source": self.source,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Waiting:
    stage: str  # the last stage reached
    waiting_for: str  # what would move it on
    since: datetime  # when the wait began
    waited: timedelta  # from `since` to the timeline's `as_of`

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "waiting_for": self.waiting_for,
            "since": self.since.isoformat(),
            "since_ist": _ist(self.since),
            "waited_seconds": int(self.waited.total_seconds()),
        }


@dataclass(frozen=True, slots=True)
class PaymentTimeline:
    payment: PaymentRef
    account_id: str | None  # None: the channel spoke of it, but it was never recorded
    amount_paise: int | None
    status: str  # the payment's status, or the channel's last stage before it is recorded
    stages: tuple[Stage, ...]  # in time order
    stuck: Waiting | None  # None: nothing more is to happen
    as_of: datetime

    @property
    def is_finished(self) -> bool:
        return self.stuck is None

    def stage_names(self) -> list[str]:
        return [stage.name for stage in self.stages]

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.payment.channel.value,
            "reference": self.payment.reference,
            "account_id": self.account_id,
            "amount_paise": self.amount_paise,
            "status": self.status,
            "as_of": self.as_of.isoformat(),
            "is_finished": self.is_finished,
            "stuck": None if self.stuck is None else self.stuck.as_dict(),
            "stages": [stage.as_dict() for stage in self.stages],
        }


_CHANNEL_WAITS = {
    "ordered": "the consumer to pay at the gateway",
    "pending": "the channel to confirm or fail the payment",
    "confirmed": "the credit (the next callback or status poll retries it)",
    "refused": "an officer to settle it by hand",
}
_FINAL_CHANNEL_STAGES = frozenset({"failed"})

Chain = list[tuple[QueuedMessage, RelayCommandLife | None]]


def payment_timeline(
    history: PaymentHistory, payment: PaymentRef, now: datetime
) -> PaymentTimeline:
    """Every recorded stage of one payment in time order, and where it waits since when.

    Raises UnknownPayment when neither the channel nor the ledger has heard of it.
    """
    events = history.channel_events(payment)
    facts = history.payment(payment)
    if facts is None and not events:
        raise UnknownPayment(f"no payment {payment.channel.value}:{payment.reference}")
    stages = [Stage(event.stage, event.at, "channel", event.detail) for event in events]
    if facts is None:
        last = events[-1]
        waiting = None
        if last.stage not in _FINAL_CHANNEL_STAGES:
            what = _CHANNEL_WAITS.get(last.stage, "the payment to be recorded")
            waiting = _wait(last.stage, what, last.at, now)
        return PaymentTimeline(payment, None, None, last.stage, _in_order(stages), waiting, now)

    stages.append(
        Stage(
            "received",
            facts.received_at,
            "payments",
            f"{format_rupees(facts.amount_paise)} for account {facts.account_id}"
            + (
                ", pending: no credit until the channel confirms"
                if facts.status == "pending"
                else ""
            ),
        )
    )
    posted = history.journals_posted([recharge_key(payment), reversal_key(payment)])
    credited_at = posted.get(recharge_key(payment))
    if credited_at is not None:
        stages.append(Stage("credited", credited_at, "ledger", _credit_detail(facts)))
    if recharge_key(payment) not in posted and facts.status == "failed":
        stages.append(Stage("failed", facts.updated_at, "payments", "nothing was credited"))
    reversed_at = posted.get(reversal_key(payment))
    if reversed_at is not None:
        stages.append(Stage("reversed", reversed_at, "ledger", "the credit was taken back"))
    sms = history.messages(
        [
            f"sms:recharge:{payment.channel.value}:{payment.reference}",
            f"sms:reversal:{payment.channel.value}:{payment.reference}",
        ]
    )
    for message in sms:
        template = str(message.payload.get("template", "sms"))
        stages.append(
            Stage("sms_queued", message.created_at, "sms", f"{template}: {message.status}")
        )
    chain = [] if credited_at is None else _reconnects(history, facts.account_id, credited_at)
    for n, (message, command) in enumerate(chain):
        stages.extend(_relay_stages(message, command, is_reissue=n > 0))
    return PaymentTimeline(
        payment,
        facts.account_id,
        facts.amount_paise,
        facts.status,
        _in_order(stages),
        _waiting(facts, sms, chain, now),
        now,
    )


def _in_order(stages: list[Stage]) -> tuple[Stage, ...]:
    # Stable: stages of one instant keep the order they were appended in, which is the
    # order they happen in (the channel's word, the credit, its SMS, its reconnect).
    return tuple(sorted(stages, key=lambda stage: stage.at))


def _credit_detail(facts: PaymentFacts) -> str:
    share = facts.arrears_share_paise
    wallet = f"wallet +{format_rupees(facts.amount_paise - share)}"
    return wallet + (f", arrears +{format_rupees(share)}" if share else "")


def _reconnects(history: PaymentHistory, account_id: str, credited_at: datetime) -> Chain:
    """The reconnect queued with the credit, then each reissue after a lapse."""
    queued = history.reconnects_queued(account_id, credited_at, MAX_RECONNECTS)
    first = next((m for m in queued if m.created_at == credited_at), None)
    if first is None:
        return []  # the supply needed no reconnect (or one was already on its way)
    messages = [first]
    while True:
        suffix = f":after:{messages[-1].command_id}"
        after = next((m for m in queued if m.dedupe_key.endswith(suffix)), None)
        if after is None or after in messages:
            break
        messages.append(after)
    commands = history.relay_commands([m.command_id for m in messages])
    return [(m, commands.get(m.command_id)) for m in messages]


def _relay_stages(
    message: QueuedMessage, command: RelayCommandLife | None, *, is_reissue: bool
) -> list[Stage]:
    again = ", again after the last one lapsed" if is_reissue else ""
    stages = [
        Stage(
            "reconnect_queued", message.created_at, "relay", f"command {message.command_id}{again}"
        )
    ]
    if command is not None and command.last_sent_at is not None:
        times = "once" if command.attempts == 1 else f"{command.attempts} times, last"
        stages.append(Stage("reconnect_sent", command.last_sent_at, "relay", f"sent {times}"))
    if command is not None and command.finished_at is not None:
        stages.append(
            Stage(f"reconnect_{command.status}", command.finished_at, "relay", command.detail)
        )
    return stages


def _waiting(
    facts: PaymentFacts, sms: list[QueuedMessage], chain: Chain, now: datetime
) -> Waiting | None:
    if facts.status == "pending":
        return _wait(
            "pending", "the channel to confirm or fail the payment", facts.received_at, now
        )
    if facts.status == "credited" and chain:
        began = chain[0][0].created_at  # the consumer has waited for supply since the credit
        message, command = chain[-1]
        if command is None or command.status == "queued":
            return _wait("reconnect_queued", "the head-end to send the reconnect", began, now)
        if command.status == "sent":
            return _wait("reconnect_sent", "the meter to acknowledge the reconnect", began, now)
        if command.status != "acknowledged":
            return _wait(
                f"reconnect_{command.status}",
                "a new reconnect command (none was queued after this one)",
                command.finished_at or message.created_at,
                now,
            )
    for message in sms:
        if message.status == "pending":
            return _wait("sms_queued", "the SMS to be sent", message.created_at, now)
    return None


def _wait(stage: str, waiting_for: str, since: datetime, now: datetime) -> Waiting:
    return Waiting(stage, waiting_for, since, max(now - since, timedelta(0)))


def _ist(at: datetime) -> str:
    return at.astimezone(IST).strftime("%Y-%m-%d %H:%M:%S IST")
