"""A simulated UPI gateway that behaves, on the wire, as a real one does.

It keeps the orders it was given, and when a consumer "pays" it sends our webhook the
signed callback a real aggregator would (HMAC-SHA256 over `{timestamp}.{body}`, header
X-Prepaidgrid-Signature), over real HTTP or to any callable (a test client). Its status
endpoint (`status`) answers polls from what it knows. Tests use it to send duplicate,
concurrent, out-of-order, replayed and forged callbacks exactly as they would arrive.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from prepaidgrid.domain.payments import SIGNATURE_HEADER, GatewayEvent, sign_callback
from prepaidgrid.services.ports import Clock, GatewayStatus, PaymentOrder

# (url path, body, headers) -> HTTP status
Deliver = Callable[[bytes, dict[str, str]], int]


@dataclass(frozen=True, slots=True)
class Callback:
    body: bytes
    headers: dict[str, str]


class SimulatedGateway:
    def __init__(
        self,
        secret: bytes,
        clock: Clock,
        deliver: Deliver | None = None,
        *,
        pay_page: str = "https://pay.example/upi",
    ) -> None:
        self._secret, self._clock, self._deliver, self._pay_page = secret, clock, deliver, pay_page
        self._orders: dict[str, PaymentOrder] = {}
        self._news: dict[str, GatewayStatus] = {}
        self._lock = threading.Lock()

    # -- the port ---------------------------------------------------------------------------
    def start(self, order: PaymentOrder) -> str:
        with self._lock:
            self._orders[order.order_id] = order
        return f"{self._pay_page}?order={order.order_id}&amount={order.amount_paise}"

    def status(self, order_id: str) -> GatewayStatus | None:
        with self._lock:
            return self._news.get(order_id)

    # -- the consumer at the gateway --------------------------------------------------------
    def pay(
        self, order_id: str, event: GatewayEvent = GatewayEvent.CAPTURED, *, send: bool = True
    ) -> Callback:
        """The consumer's payment reaches `event`; the gateway records it and (if `send`)
        delivers the signed callback. Returns the callback, to be replayed at will."""
        with self._lock:
            order = self._orders[order_id]
            known = self._news.get(order_id)
            txn = known.gateway_txn_id if known else "UPI" + secrets.token_hex(6).upper()
            news = GatewayStatus(event, txn, order.amount_paise)
            self._news[order_id] = news
        callback = self.callback(order_id, event, txn, order.amount_paise)
        if send:
            self.send(callback)
        return callback

    def callback(
        self,
        order_id: str,
        event: GatewayEvent,
        gateway_txn_id: str,
        amount_paise: int,
        *,
        at: datetime | None = None,
        secret: bytes | None = None,
    ) -> Callback:
        """A callback as the gateway signs it (`at`, `secret`: to forge or age one)."""
        body = json.dumps(
            {
                "event": event.value,
                "order_id": order_id,
                "gateway_txn_id": gateway_txn_id,
                "amount_paise": amount_paise,
            },
            separators=(",", ":"),
        ).encode()
        stamp = int((at or self._clock.now()).timestamp())
        signature = sign_callback(secret or self._secret, stamp, body)
        return Callback(body, {SIGNATURE_HEADER: signature, "Content-Type": "application/json"})

    def send(self, callback: Callback) -> int:
        if self._deliver is None:
            raise RuntimeError("this gateway has nowhere to deliver callbacks")
        return self._deliver(callback.body, callback.headers)


def http_delivery(webhook_url: str, timeout_s: float = 10.0) -> Deliver:
    """Deliver callbacks over real HTTP, as the gateway's servers do."""
    import httpx

    def deliver(body: bytes, headers: dict[str, str]) -> int:
        return httpx.post(webhook_url, content=body, headers=headers, timeout=timeout_s).status_code

    return deliver
