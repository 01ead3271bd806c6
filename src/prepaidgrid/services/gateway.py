"""App and website recharges through the payment gateway (UPI).

    create_order --> the consumer pays at the gateway --> signed webhook (or, if it never
    comes, `poll_unsettled_orders` asks the gateway) --> settle_order:
        pending  -> a pending payment (no cut while it covers the debt)
        captured -> apply_recharge: credited once (reference = order id), reconnect queued
        failed   -> fail_payment: a cut the pending payment held is due again

The order's new status and the credit commit in one transaction, under the order's lock: a
crash before the commit leaves both undone, and the gateway's retry (or the poll) settles
the order then. Never twice, never zero times.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from prepaidgrid.domain.errors import (
    Conflict,
    DuplicateJournal,
    DuplicatePayment,
    InvalidInput,
    UnknownPayment,
)
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.payments import GatewayEvent, OrderStatus, next_order_status
from prepaidgrid.domain.units import format_rupees, require_paise
from prepaidgrid.services.ports import (
    ChannelUnitOfWork,
    Clock,
    GatewayStatus,
    PaymentGateway,
    PaymentOrder,
    PolicyBook,
)
from prepaidgrid.services.recharges import (
    ApplyRecharge,
    FailPayment,
    RecordPendingPayment,
    credit_recharge,
    hold_pending,
    release_failed,
)

GATEWAY_CHANNELS = (PaymentChannel.APP, PaymentChannel.WEBSITE)
MAX_RECHARGE_PAISE = 5_000_000  # ₹50,000: above it, a counter or BBPS
POLL_AFTER = timedelta(minutes=2)  # an order this quiet is asked about


class UnknownOrder(UnknownPayment):
    """No such order."""


@dataclass(frozen=True, slots=True)
class CreateOrder:
    account_id: str
    amount_paise: int
    channel: PaymentChannel = PaymentChannel.WEBSITE


@dataclass(frozen=True, slots=True)
class CreatedOrder:
    order: PaymentOrder
    pay_url: str


@dataclass(frozen=True, slots=True)
class GatewayCallback:
    order_id: str
    event: GatewayEvent
    gateway_txn_id: str
    amount_paise: int


@dataclass(frozen=True, slots=True)
class Settled:
    order_id: str
    status: OrderStatus
    changed: bool  # False: the callback repeated, or was older news than we had


def new_order_id() -> str:
    return "ORD" + secrets.token_hex(8).upper()


def create_order(
    cmd: CreateOrder,
    uow: ChannelUnitOfWork,
    clock: Clock,
    gateway: PaymentGateway,
    new_id: Callable[[], str] = new_order_id,
) -> CreatedOrder:
    require_paise(cmd.amount_paise)
    if cmd.channel not in GATEWAY_CHANNELS:
        raise InvalidInput(f"orders are for the app or the website, not {cmd.channel.value}")
    if not 100 <= cmd.amount_paise <= MAX_RECHARGE_PAISE:
        raise InvalidInput(
            f"a recharge is between ₹1 and {format_rupees(MAX_RECHARGE_PAISE)}, "
            f"not {format_rupees(cmd.amount_paise)}"
        )
    at = clock.now()
    order = PaymentOrder(
        new_id(), cmd.channel, cmd.account_id, cmd.amount_paise, OrderStatus.CREATED, at, at
    )
    with uow:
        connection = uow.connections.get(cmd.account_id)  # UnknownAccount if there is none
        if not connection.is_prepaid:
            raise InvalidInput(f"account {cmd.account_id} is not on prepaid metering")
        uow.orders.add(order)
        uow.payment_events.add(
            PaymentRef(order.channel, order.order_id),
            "ordered",
            at,
            f"{format_rupees(order.amount_paise)} for {order.account_id}",
        )
        uow.commit()
    return CreatedOrder(order, gateway.start(order))


def settle_order(
    callback: GatewayCallback,
    new_uow: Callable[[], ChannelUnitOfWork],
    clock: Clock,
    policies: PolicyBook,
    *,
    source: str = "webhook",
) -> Settled:
    """Act on what the gateway says of an order (its webhook, or its status when polled):
    the order's new status and its effect (a pending payment, the credit, the release of a
    failed one) commit together, in one transaction that holds the order's lock."""
    at = clock.now()
    try:
        return _settle(callback, new_uow, at, policies, source)
    except (DuplicatePayment, DuplicateJournal):  # a concurrent delivery got there first
        return _settle(callback, new_uow, at, policies, source)


def _settle(
    callback: GatewayCallback,
    new_uow: Callable[[], ChannelUnitOfWork],
    at: datetime,
    policies: PolicyBook,
    source: str,
) -> Settled:
    with new_uow() as uow:
        order = uow.orders.lock(callback.order_id)
        if order is None:
            raise UnknownOrder(f"no order {callback.order_id}")
        if callback.amount_paise != order.amount_paise:  # refused, and nothing written
            raise Conflict(
                f"order {order.order_id} is for {format_rupees(order.amount_paise)}, the "
                f"gateway reports {format_rupees(callback.amount_paise)}: not credited, settle "
                "it by hand"
            )
        status = next_order_status(order.status, callback.event)
        if status is None:
            return Settled(order.order_id, order.status, changed=False)
        ref = PaymentRef(order.channel, order.order_id)
        if status is OrderStatus.PENDING:
            hold_pending(RecordPendingPayment(order.account_id, order.amount_paise, ref), uow, at)
        elif status is OrderStatus.PAID:
            credit_recharge(
                ApplyRecharge(order.account_id, order.amount_paise, ref), uow, at, policies
            )
        elif uow.payments.get(ref) is not None:  # failed: release the pending payment
            release_failed(FailPayment(ref), uow, at, policies)
        uow.orders.set_status(order.order_id, status, at, callback.gateway_txn_id)
        uow.payment_events.add(
            ref, _STAGES[status], at, f"{source}: {callback.event.value} {callback.gateway_txn_id}"
        )
        uow.commit()
    return Settled(order.order_id, status, changed=True)


_STAGES = {
    OrderStatus.PENDING: "pending",
    OrderStatus.PAID: "confirmed",
    OrderStatus.FAILED: "failed",
    OrderStatus.CREATED: "ordered",
}


@dataclass
class PollRun:
    asked: int = 0
    settled: int = 0
    no_news: int = 0


def poll_unsettled_orders(
    new_uow: Callable[[], ChannelUnitOfWork],
    clock: Clock,
    policies: PolicyBook,
    gateway: PaymentGateway,
    *,
    quiet_for: timedelta = POLL_AFTER,
    limit: int = 500,
) -> PollRun:
    """Ask the gateway about orders whose webhook has not come: a lost callback must not
    leave a paid consumer in the dark."""
    run = PollRun()
    with new_uow() as uow:
        orders = uow.orders.unsettled(clock.now() - quiet_for, limit)
    for order in orders:
        run.asked += 1
        news: GatewayStatus | None = gateway.status(order.order_id)
        if news is None:
            run.no_news += 1
            continue
        settled = settle_order(
            GatewayCallback(order.order_id, news.event, news.gateway_txn_id, news.amount_paise),
            new_uow,
            clock,
            policies,
            source="poll",
        )
        run.settled += settled.changed
    return run
