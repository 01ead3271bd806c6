"""Deliver what the outbox holds: at-least-once, each message marked sent in its own commit.

A naive sender for the simulator and the demos (and relay commands in tests). Consumers' SMS
and e-mail in `serve` go through services/notify.py: quiet hours, retries with backoff,
delivery status and the portal inbox (docs/notifications.md)."""

from __future__ import annotations

from collections.abc import Callable

from prepaidgrid.services.ports import OutboxMessage, UnitOfWork

Sender = Callable[[OutboxMessage], None]


def dispatch_outbox(kind: str, send: Sender, uow: UnitOfWork, batch: int = 100) -> int:
    """Send pending messages of one kind; a sender that raises leaves its message pending.

    A crash after sending and before the commit sends the message again on the next run:
    receivers dedupe by the command id / dedupe key, so at-least-once is safe.
    """
    sent = 0
    with uow:
        for message_id, message in uow.outbox.pending(kind, batch):
            send(message)
            uow.outbox.mark_sent(message_id)
            sent += 1
        uow.commit()
    return sent
