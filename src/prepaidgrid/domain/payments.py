"""Payment channels' pure rules: signed callbacks, and the life of a gateway order.

A gateway (UPI through a payment aggregator) confirms an app or website payment with a
webhook signed with a secret we share: HMAC-SHA256 over `{timestamp}.{body}`, sent as

    X-Prepaidgrid-Signature: t=1751347800,v1=5f1c...e9

A callback whose signature does not match is forged; one whose timestamp is further than
the replay window from our clock is stale (a recorded callback replayed later); both are
refused before anything is read or written. A genuine callback repeated inside the window
is harmless: the order is credited once (its id is the payment's reference).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from enum import StrEnum

from prepaidgrid.domain.errors import DomainError, InvalidTransition

SIGNATURE_HEADER = "X-Prepaidgrid-Signature"
REPLAY_WINDOW_S = 300  # five minutes either side of our clock


class CallbackRefused(DomainError):
    """The callback cannot be trusted: nothing it says is acted on (HTTP 401)."""


class ForgedCallback(CallbackRefused):
    """Missing or wrong signature."""


class StaleCallback(CallbackRefused):
    """Signed, but outside the replay window."""


def sign_callback(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_callback(
    secret: bytes,
    header: str | None,
    body: bytes,
    now: datetime,
    *,
    window_s: int = REPLAY_WINDOW_S,
) -> int:
    """The callback's timestamp, if `header` signs `body` and is inside the window."""
    if not header:
        raise ForgedCallback(f"the callback carries no {SIGNATURE_HEADER} header")
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, []).append(value)
    stamps = fields.get("t", [])
    if len(stamps) != 1 or not stamps[0].isdigit():
        raise ForgedCallback("the signature header has no valid t=<unix seconds>")
    timestamp = int(stamps[0])
    expected = sign_callback(secret, timestamp, body).partition(",v1=")[2]
    if not any(hmac.compare_digest(expected, given) for given in fields.get("v1", [])):
        raise ForgedCallback("the callback's signature does not match its body")
    skew = abs(now.timestamp() - timestamp)
    if skew > window_s:
        raise StaleCallback(
            f"the callback was signed {int(skew)} s away from our clock "
            f"(the window is {window_s} s): a replay, or a clock to fix"
        )
    return timestamp


class OrderStatus(StrEnum):
    CREATED = "created"  # we made it; the consumer is at the gateway
    PENDING = "pending"  # the gateway says money is on its way: no cut meanwhile
    PAID = "paid"  # captured: credited to the account
    FAILED = "failed"


class GatewayEvent(StrEnum):
    PENDING = "payment.pending"
    CAPTURED = "payment.captured"
    FAILED = "payment.failed"


def next_order_status(current: OrderStatus, event: GatewayEvent) -> OrderStatus | None:
    """The order's status after `event`, or None when the event changes nothing (a repeat,
    or news older than what we know). Callbacks arrive in any order: a capture after a
    failure is money taken after all, and is credited; a failure after a capture is a
    contradiction the gateway must resolve with a refund, never by un-crediting."""
    if current is OrderStatus.PAID:
        if event is GatewayEvent.FAILED:
            raise InvalidTransition(
                "the gateway reports a failure for an order already paid and credited; "
                "a refund is a reversal, not a failure"
            )
        return None
    if event is GatewayEvent.CAPTURED:
        return OrderStatus.PAID
    if current is OrderStatus.FAILED:
        return None  # a pending or failed after the failure: nothing new
    if event is GatewayEvent.FAILED:
        return OrderStatus.FAILED
    return None if current is OrderStatus.PENDING else OrderStatus.PENDING
