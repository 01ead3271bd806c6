"""One payment's life on real databases: from the channel's word to the meter's relay."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from prepaidgrid.adapters.books import PackagedTariffBook
from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.payment_read_models import SqlPaymentHistory
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.domain.errors import UnknownPayment
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.meter_protocol import (
    Ack,
    AckStatus,
    Command,
    decode_uplink,
    encode_uplink,
)
from prepaidgrid.domain.payments import GatewayEvent
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.gateway import (
    CreateOrder,
    GatewayCallback,
    create_order,
    settle_order,
)
from prepaidgrid.services.headend import (
    Received,
    ingest_uplinks,
    publish_due_commands,
    track_relay_commands,
)
from prepaidgrid.services.outbox import dispatch_outbox
from prepaidgrid.services.payment_timeline import PaymentTimeline, payment_timeline
from prepaidgrid.services.ports import GatewayStatus, OutboxMessage, PaymentOrder
from prepaidgrid.services.recharges import (
    ApplyRecharge,
    RecordPendingPayment,
    ReverseRecharge,
    apply_recharge,
    record_pending_payment,
    reverse_recharge,
)
from prepaidgrid.services.supply import EvaluateSupply, evaluate_supply
from tests.conftest import ist
from tests.integration.headend_support import POLICIES, install_meters

pytestmark = pytest.mark.integration

TARIFFS = PackagedTariffBook()
ACCOUNT = "ACC-0000"
RECHARGED = ist(2025, 7, 3, 19)


def timeline_of(engine: Engine, payment: PaymentRef, clock: SettableClock) -> PaymentTimeline:
    with engine.connect() as db:
        return payment_timeline(SqlPaymentHistory(db), payment, clock.now())


def sweep(engine: Engine, clock: SettableClock) -> list[Command]:
    """One head-end cycle: outbox -> command log -> publish what is due."""
    published: list[Command] = []
    track_relay_commands(SqlUnitOfWork(engine), clock)
    publish_due_commands(SqlUnitOfWork(engine), clock, published.append, POLICIES)
    return published


def acknowledge(
    engine: Engine, clock: SettableClock, command: Command, status: AckStatus, n: int
) -> None:
    message = Ack(
        command.discom,
        command.meter_id,
        f"ack-{n}",
        command.issued_at,
        command.command_id,
        status,
        command.action.value == "reconnect",
    )
    topic_name, payload = encode_uplink(message)
    received = Received(topic_name, decode_uplink(topic_name, payload))
    ingest_uplinks([received], SqlUnitOfWork(engine), clock, POLICIES)


def send_sms(engine: Engine) -> list[OutboxMessage]:
    sent: list[OutboxMessage] = []
    dispatch_outbox("sms", sent.append, SqlUnitOfWork(engine))
    return sent


def disconnected_account(engine: Engine, clock: SettableClock) -> str:
    """ACC-0000, its balance below zero since 2 July, cut on Thursday 3 July at 10:00."""
    clock.set(ist(2025, 6, 30, 12))
    install_meters(engine, 1, clock)
    clock.set(ist(2025, 7, 2, 0, 30))
    post_daily_charge(
        PostDailyCharge(ACCOUNT, date(2025, 7, 1), 6_000),
        SqlUnitOfWork(engine),
        clock,
        TARIFFS,
        POLICIES,
    )
    clock.set(ist(2025, 7, 3, 10))
    evaluate_supply(EvaluateSupply(ACCOUNT), SqlUnitOfWork(engine), clock, POLICIES)
    [cut] = sweep(engine, clock)
    acknowledge(engine, clock, cut, AckStatus.DONE, 1)
    return ACCOUNT


def recharge(
    engine: Engine, clock: SettableClock, reference: str, paise: int = 50_000
) -> PaymentRef:
    payment = PaymentRef(PaymentChannel.COUNTER, reference)
    apply_recharge(ApplyRecharge(ACCOUNT, paise, payment), SqlUnitOfWork(engine), clock, POLICIES)
    return payment


def test_a_disconnected_account_recharged_waits_for_its_reconnect_until_the_meter_acknowledges(
    engine: Engine,
) -> None:
    clock = SettableClock(RECHARGED)
    disconnected_account(engine, clock)
    clock.set(RECHARGED)
    payment = recharge(engine, clock, "R-1")
    clock.set(RECHARGED + timedelta(minutes=20))
    queued = timeline_of(engine, payment, clock)
    clock.set(RECHARGED + timedelta(minutes=21))
    [reconnect] = sweep(engine, clock)
    sent = timeline_of(engine, payment, clock)
    clock.set(RECHARGED + timedelta(minutes=25))
    acknowledge(engine, clock, reconnect, AckStatus.DONE, 2)
    acknowledged = timeline_of(engine, payment, clock)
    send_sms(engine)
    finished = timeline_of(engine, payment, clock)

    assert queued.stage_names() == ["received", "credited", "sms_queued", "reconnect_queued"]
    assert {stage.at for stage in queued.stages} == {RECHARGED}
    assert queued.status == "credited"
    assert queued.account_id == ACCOUNT
    assert queued.amount_paise == 50_000
    assert queued.stuck is not None
    assert (queued.stuck.stage, queued.stuck.since) == ("reconnect_queued", RECHARGED)
    assert queued.stuck.waited == timedelta(minutes=20)
    assert sent.stage_names()[-1] == "reconnect_sent"
    assert sent.stuck is not None
    assert (sent.stuck.stage, sent.stuck.waited) == ("reconnect_sent", timedelta(minutes=21))
    assert acknowledged.stage_names() == [
        "received",
        "credited",
        "sms_queued",
        "reconnect_queued",
        "reconnect_sent",
        "reconnect_acknowledged",
    ]
    assert acknowledged.stages[-1].at == RECHARGED + timedelta(minutes=25)
    assert acknowledged.stuck is not None
    assert acknowledged.stuck.stage == "sms_queued"  # the consumer is yet to be told
    assert finished.is_finished
    assert finished.stages[2].detail == "recharge_received: sent"


def test_a_reconnect_the_meter_failed_is_followed_to_the_one_sent_again(engine: Engine) -> None:
    clock = SettableClock(RECHARGED)
    disconnected_account(engine, clock)
    clock.set(RECHARGED)
    payment = recharge(engine, clock, "R-2")
    [reconnect] = sweep(engine, clock)
    clock.set(RECHARGED + timedelta(minutes=5))
    acknowledge(engine, clock, reconnect, AckStatus.FAILED, 2)
    failed_once = timeline_of(engine, payment, clock)
    [again] = sweep(engine, clock)
    clock.set(RECHARGED + timedelta(minutes=9))
    acknowledge(engine, clock, again, AckStatus.DONE, 3)
    send_sms(engine)
    done = timeline_of(engine, payment, clock)

    assert failed_once.stuck is not None
    assert (failed_once.stuck.stage, failed_once.stuck.since) == ("reconnect_queued", RECHARGED)
    assert done.stage_names()[3:] == [
        "reconnect_queued",
        "reconnect_sent",
        "reconnect_failed",
        "reconnect_queued",
        "reconnect_sent",
        "reconnect_acknowledged",
    ]
    assert again.command_id in done.stages[6].detail
    assert done.is_finished


def test_a_pending_payment_is_stuck_at_pending_since_it_was_received(engine: Engine) -> None:
    clock = SettableClock(ist(2025, 7, 1, 9))
    install_meters(engine, 1, clock)
    payment = PaymentRef(PaymentChannel.BBPS, "BBPS-77")
    clock.set(ist(2025, 7, 1, 11, 15))
    record_pending_payment(
        RecordPendingPayment(ACCOUNT, 30_000, payment), SqlUnitOfWork(engine), clock
    )
    clock.set(ist(2025, 7, 1, 14, 45))

    timeline = timeline_of(engine, payment, clock)

    assert timeline.status == "pending"
    assert timeline.stage_names() == ["received"]
    assert timeline.stuck is not None
    assert timeline.stuck.stage == "pending"
    assert timeline.stuck.since == ist(2025, 7, 1, 11, 15)
    assert timeline.stuck.waited == timedelta(hours=3, minutes=30)
    assert timeline.as_dict()["stuck"]["waited_seconds"] == 3.5 * 3600


def test_a_credit_that_needs_no_reconnect_is_finished_once_its_sms_is_sent(
    engine: Engine,
) -> None:
    clock = SettableClock(ist(2025, 7, 1, 9))
    install_meters(engine, 1, clock)
    payment = recharge(engine, clock, "R-3", 20_000)  # already connected: nothing to switch
    clock.set(ist(2025, 7, 1, 10))
    reverse_recharge(ReverseRecharge(payment), SqlUnitOfWork(engine), clock, POLICIES)
    send_sms(engine)

    timeline = timeline_of(engine, payment, clock)

    assert timeline.stage_names() == [
        "received",
        "credited",
        "sms_queued",
        "reversed",
        "sms_queued",
    ]
    assert timeline.status == "reversed"
    assert timeline.stages[3].at == ist(2025, 7, 1, 10)
    assert timeline.is_finished


class Gateway:
    """The gateway port, as little of it as creating an order needs."""

    def start(self, order: PaymentOrder) -> str:
        return f"https://pay.example/{order.order_id}"

    def status(self, order_id: str) -> GatewayStatus | None:
        return None


def test_a_gateway_order_shows_the_channels_stages_and_waits_for_the_consumer_to_pay(
    engine: Engine,
) -> None:
    clock = SettableClock(ist(2025, 7, 1, 9))
    install_meters(engine, 1, clock)
    ids = iter(["ORD-1", "ORD-2"])
    for _ in range(2):
        create_order(
            CreateOrder(ACCOUNT, 25_000, PaymentChannel.APP),
            SqlUnitOfWork(engine),
            clock,
            Gateway(),
            new_id=lambda: next(ids),
        )
    clock.set(ist(2025, 7, 1, 9, 2))
    settle_order(
        GatewayCallback("ORD-2", GatewayEvent.CAPTURED, "UTR-9", 25_000),
        lambda: SqlUnitOfWork(engine),
        clock,
        POLICIES,
    )
    clock.set(ist(2025, 7, 1, 9, 30))

    waiting = timeline_of(engine, PaymentRef(PaymentChannel.APP, "ORD-1"), clock)
    paid = timeline_of(engine, PaymentRef(PaymentChannel.APP, "ORD-2"), clock)

    assert waiting.stage_names() == ["ordered"]
    assert waiting.account_id is None
    assert waiting.stuck is not None
    assert (waiting.stuck.stage, waiting.stuck.waited) == ("ordered", timedelta(minutes=30))
    assert paid.stage_names() == ["ordered", "confirmed", "received", "credited", "sms_queued"]
    assert paid.stuck is not None
    assert paid.stuck.stage == "sms_queued"


def test_an_unknown_payment_is_refused(engine: Engine) -> None:
    clock = SettableClock(ist(2025, 7, 1, 9))
    install_meters(engine, 1, clock)
    recharge(engine, clock, "R-4")

    with pytest.raises(UnknownPayment, match="no payment bbps:NOPE"):
        timeline_of(engine, PaymentRef(PaymentChannel.BBPS, "NOPE"), clock)
