"""Head-end use cases: ingest a batch of meter messages, track and publish relay commands.

Ingestion is one transaction per batch: messages are recorded once per (meter, msg_id),
readings once per (meter, read_at), and the MQTT acknowledgements are sent only after the
commit, so a worker killed mid-batch loses nothing (the broker redelivers) and doubles
nothing (the keys absorb the redelivery).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prepaidgrid.domain.errors import DomainError
from prepaidgrid.domain.meter_protocol import (
    Ack,
    AckStatus,
    Command,
    CommandAction,
    Event,
    Reading,
    Rejection,
    Uplink,
)
from prepaidgrid.services.ports import (
    Clock,
    PolicyBook,
    RejectedMessage,
    RelayCommandRow,
    UnitOfWork,
)
from prepaidgrid.services.supply import (
    RecordRelayAck,
    confirm_relay_position,
    relay_command_lapsed,
)

FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(minutes=30)
RELAY_ACTIONS = ("disconnect", "reconnect")


@dataclass(frozen=True, slots=True)
class Received:
    topic: str
    message: Uplink | Rejection


@dataclass
class IngestResult:
    readings: int = 0
    events: int = 0
    acks: int = 0
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)

    def reject(self, reason: str) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1


def ingest_uplinks(
    batch: Sequence[Received], uow: UnitOfWork, clock: Clock, policies: PolicyBook
) -> IngestResult:
    """Persist one batch of decoded uplinks in one transaction; rejections are kept with
    their reason and never reach the ledger."""
    at = clock.now()
    result = IngestResult()
    rejections: list[RejectedMessage] = []
    with uow:
        decoded = [r for r in batch if not isinstance(r.message, Rejection)]
        known = uow.meter_data.known_meters({_meter(r.message) for r in decoded})
        fresh: list[Received] = []
        for received in batch:
            message = received.message
            if isinstance(message, Rejection):
                rejections.append(
                    RejectedMessage(at, received.topic, message.reason, message.detail)
                )
                result.reject(message.reason)
            elif message.meter_id not in known:
                rejections.append(
                    RejectedMessage(
                        at,
                        received.topic,
                        "unknown_meter",
                        f"meter {message.meter_id} is not installed on any account",
                    )
                )
                result.reject("unknown_meter")
            elif known[message.meter_id].discom != message.discom:
                rejections.append(
                    RejectedMessage(
                        at,
                        received.topic,
                        "wrong_discom",
                        f"meter {message.meter_id} belongs to "
                        f"{known[message.meter_id].discom}, not {message.discom}",
                    )
                )
                result.reject("wrong_discom")
            else:
                fresh.append(received)
        keys = [(_meter(r.message), _msg_id(r.message), _channel(r.message)) for r in fresh]
        new = uow.meter_data.record_messages(keys, at)
        readings: list[Reading] = []
        events: list[Event] = []
        acks: list[Ack] = []
        for received in fresh:
            message = received.message
            key = (_meter(message), _msg_id(message))
            if key not in new:  # stored before, or a second copy within this batch
                result.duplicates += 1
                continue
            new.discard(key)
            if isinstance(message, Reading):
                readings.append(message)
            elif isinstance(message, Event):
                events.append(message)
            elif isinstance(message, Ack):
                acks.append(message)
        result.readings = uow.meter_data.add_reads(readings, at)
        result.events = uow.meter_data.add_events(events, at)
        uow.meter_data.add_rejections(rejections)
        for ack in acks:
            _apply_ack(uow, ack, at, policies)
        result.acks = len(acks)
        uow.commit()
    return result


def _meter(message: Uplink | Rejection) -> str:
    assert not isinstance(message, Rejection)
    return message.meter_id


def _msg_id(message: Uplink | Rejection) -> str:
    assert not isinstance(message, Rejection)
    return message.msg_id


def _channel(message: Uplink | Rejection) -> str:
    if isinstance(message, Reading):
        return "readings"
    if isinstance(message, Event):
        return "events"
    return "acks"


def _apply_ack(uow: UnitOfWork, ack: Ack, at: datetime, policies: PolicyBook) -> None:
    """A meter's answer to a command: finish the command, and move the supply state."""
    command = uow.relay_commands.get(ack.command_id)
    if command is None or command.status not in ("queued", "sent"):
        return  # unknown or already answered: a repeated ack changes nothing
    if command.meter_id != ack.meter_id:
        return
    status = {
        AckStatus.DONE: "acknowledged",
        AckStatus.FAILED: "failed",
        AckStatus.EXPIRED: "expired",
    }[ack.status]
    uow.relay_commands.finish(command.command_id, status, at, f"meter said {ack.status.value}")
    if command.action not in RELAY_ACTIONS:
        return
    if ack.status is not AckStatus.DONE:
        _lapse(uow, command, at, policies)
        return
    is_closed = ack.relay_closed if ack.relay_closed is not None else command.action == "reconnect"
    try:
        confirm_relay_position(uow, RecordRelayAck(command.account_id, is_closed), at, policies)
    except DomainError:
        return  # an account closed meanwhile: the command log keeps the ack


def _lapse(uow: UnitOfWork, command: RelayCommandRow, at: datetime, policies: PolicyBook) -> None:
    if command.action not in RELAY_ACTIONS:
        return
    try:
        relay_command_lapsed(
            uow, command.account_id, command.command_id, command.action, at, policies
        )
    except DomainError:
        return  # an account closed meanwhile: the command log keeps the lapse


def track_relay_commands(uow: UnitOfWork, clock: Clock, batch: int = 500) -> int:
    """Move relay commands from the outbox into the command log (status queued)."""
    at = clock.now()
    moved = 0
    with uow:
        for message_id, message in uow.outbox.pending("relay_command", batch):
            payload = message.payload
            uow.relay_commands.add(
                RelayCommandRow(
                    command_id=str(payload["command_id"]),
                    account_id=message.account_id,
                    meter_id=str(payload["meter_id"]),
                    discom=str(payload.get("discom", "")),
                    action=str(payload["action"]),
                    status="queued",
                    created_at=message.created_at,
                    expires_at=datetime.fromisoformat(str(payload["expires_at"])),
                    attempts=0,
                    next_attempt_at=at,
                )
            )
            uow.outbox.mark_sent(message_id)
            moved += 1
        uow.commit()
    return moved


CommandPublisher = Callable[[Command], None]


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at 30 min: a sleeping meter is not flooded."""
    # 2**6 x 30 s is past the cap already; an unbounded power overflowed timedelta once a
    # meter had been asleep through a few dozen attempts, and the command was never resent.
    delay: timedelta = FIRST_RETRY * (2 ** min(max(0, attempts), 16))
    return min(delay, MAX_RETRY)


def publish_due_commands(
    uow: UnitOfWork,
    clock: Clock,
    publish: CommandPublisher,
    policies: PolicyBook,
    batch: int = 500,
) -> int:
    """Send (or resend) commands whose attempt is due; expire the ones past their expiry."""
    at = clock.now()
    sent = 0
    with uow:
        for row in uow.relay_commands.due(at, batch):
            if row.expires_at <= at:
                uow.relay_commands.finish(row.command_id, "expired", at, "no answer before expiry")
                _lapse(uow, row, at, policies)
                continue
            publish(
                Command(
                    row.discom,
                    row.meter_id,
                    row.command_id,
                    CommandAction(row.action),
                    row.created_at,
                    row.expires_at,
                )
            )
            uow.relay_commands.mark_sent(row.command_id, at, at + retry_delay(row.attempts))
            sent += 1
        uow.commit()
    return sent
