"""Relay commands over a real Mosquitto that restarts in the middle: queued, kept, done once."""

from __future__ import annotations

import json
import threading
import time
from datetime import date

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, text

from prepaidgrid.adapters.books import PackagedTariffBook
from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.headend.worker import HeadEndWorker, WorkerConfig
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.meter_protocol import (
    Ack,
    AckStatus,
    Channel,
    Command,
    CommandAction,
    Event,
    EventKind,
    decode_command,
    decode_uplink,
    encode_uplink,
    topic,
)
from prepaidgrid.domain.supply import SupplyState
from prepaidgrid.services.charges import PostDailyCharge, post_daily_charge
from prepaidgrid.services.headend import (
    Received,
    ingest_uplinks,
    publish_due_commands,
    track_relay_commands,
)
from prepaidgrid.services.recharges import ApplyRecharge, apply_recharge
from prepaidgrid.services.supply import EvaluateSupply, evaluate_supply
from tests.conftest import ist
from tests.integration.headend_support import POLICIES, install_meters, wait_until
from tests.integration.mosquitto import Mosquitto

pytestmark = pytest.mark.integration
TARIFFS = PackagedTariffBook()


class PahoMeter:
    """A meter on its own persistent MQTT session: obeys a command once, acks every copy."""

    def __init__(self, broker: Mosquitto, meter_id: str, discom: str = "SBPDCL") -> None:
        self.meter_id, self.discom = meter_id, discom
        self.relay_closed = True
        self.deliveries: list[str] = []
        self.relay_events = 0
        self._answered: dict[str, AckStatus] = {}
        self._sent = 0
        self._lock = threading.Lock()
        self._broker = broker
        self.subscribed = threading.Event()
        self._client: mqtt.Client | None = None

    def online(self) -> None:
        """Each connection a fresh client with the same id: the session lives in the broker
        (and paho leaks a socket pair if one client's loop is started twice)."""
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"meter-{self.meter_id}", clean_session=False
        )
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.on_subscribe = lambda *_a: self.subscribed.set()
        self._client = client
        client.connect("127.0.0.1", self._broker.port)
        client.loop_start()

    def offline(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None

    def _on_connect(self, client: mqtt.Client, *_args: object) -> None:
        client.subscribe(topic(self.discom, self.meter_id, Channel.COMMANDS), qos=1)

    def _on_message(self, client: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        command = decode_command(message.topic, bytes(message.payload))
        assert isinstance(command, Command), command
        with self._lock:
            self.deliveries.append(command.command_id)
            status = self._answered.get(command.command_id)
            if status is None:
                status = AckStatus.DONE
                self.relay_closed = command.action.value == "reconnect"
                self.relay_events += 1
                self._publish(
                    client,
                    Event(
                        self.discom,
                        self.meter_id,
                        self._msg_id(),
                        command.issued_at,
                        EventKind.RELAY_OPENED if not self.relay_closed else EventKind.RELAY_CLOSED,
                        command.issued_at,
                    ),
                )
                self._answered[command.command_id] = status
            self._publish(
                client,
                Ack(
                    self.discom,
                    self.meter_id,
                    self._msg_id(),
                    command.issued_at,
                    command.command_id,
                    status,
                    self.relay_closed,
                ),
            )

    def _msg_id(self) -> str:
        self._sent += 1
        return f"{self.meter_id}-x-{self._sent}"

    @staticmethod
    def _publish(client: mqtt.Client, message: Event | Ack) -> None:
        client.publish(*encode_uplink(message), qos=1)


def supply_state(engine: Engine, account_id: str) -> str:
    with engine.connect() as db:
        return str(
            db.execute(
                text("SELECT supply_state FROM accounts WHERE account_id = :a"),
                {"a": account_id},
            ).scalar_one()
        )


def command_rows(engine: Engine) -> list[tuple[str, str, int]]:
    with engine.connect() as db:
        return [
            (str(r[0]), str(r[1]), int(r[2]))
            for r in db.execute(text("SELECT command_id, status, attempts FROM relay_commands"))
        ]


def test_a_disconnect_survives_a_broker_restart_and_takes_effect_once(
    engine: Engine, mosquitto: Mosquitto
) -> None:
    clock = SettableClock(ist(2025, 6, 30, 12))
    meter_id = install_meters(engine, 1, clock)[0]
    account_id = "ACC-0000"
    clock.set(ist(2025, 7, 2, 0, 30))
    charged = post_daily_charge(
        PostDailyCharge(account_id, date(2025, 7, 1), 6_000),
        SqlUnitOfWork(engine),
        clock,
        TARIFFS,
        POLICIES,
    )
    assert charged.supply_state is SupplyState.GRACE

    meter = PahoMeter(mosquitto, meter_id)
    meter.online()
    assert meter.subscribed.wait(5)
    meter.offline()  # the meter's modem drops; its session stays in the broker

    worker = HeadEndWorker(
        WorkerConfig(mosquitto.url, "hw-commands", None, command_seconds=0.2),
        lambda: SqlUnitOfWork(engine),
        clock,
        POLICIES,
    ).start()
    try:
        clock.set(ist(2025, 7, 3, 10, 0))  # Thursday, the window opens
        due = evaluate_supply(EvaluateSupply(account_id), SqlUnitOfWork(engine), clock, POLICIES)
        assert due.state is SupplyState.DISCONNECT_SENT
        wait_until(lambda: [r[1] for r in command_rows(engine)] == ["sent"], 10, "a sent command")

        mosquitto.restart()  # the command sits in the meter's session, saved to disk
        clock.set(ist(2025, 7, 3, 10, 1))  # no ack yet: the retry timer resends it
        wait_until(lambda: command_rows(engine)[0][2] == 2, 20, "the head-end back and retrying")

        meter.online()  # both copies arrive from the meter's session
        wait_until(lambda: len(meter.deliveries) == 2, 20, "both deliveries")
        wait_until(
            lambda: supply_state(engine, account_id) == "disconnected", 20, "the relay confirmed"
        )
        time.sleep(0.5)  # a second effect, if any, would land now
    finally:
        worker.stop()
        meter.offline()

    [(command_id, status, _attempts)] = command_rows(engine)
    assert status == "acknowledged"
    assert set(meter.deliveries) == {command_id}
    assert meter.relay_events == 1
    assert supply_state(engine, account_id) == "disconnected"
    with engine.connect() as db:
        templates = [
            (json.loads(payload) if isinstance(payload, str) else payload)["template"]
            for payload in db.execute(text("SELECT payload FROM outbox WHERE kind = 'sms'"))
            .scalars()
            .all()
        ]
    assert templates.count("disconnected") == 1


def cut_due_account(engine: Engine, clock: SettableClock) -> str:
    """ACC-0000 in grace since 2 July, warned, its cut due Thursday 3 July 10:00."""
    clock.set(ist(2025, 6, 30, 12))
    install_meters(engine, 1, clock)
    clock.set(ist(2025, 7, 2, 0, 30))
    post_daily_charge(
        PostDailyCharge("ACC-0000", date(2025, 7, 1), 6_000),
        SqlUnitOfWork(engine),
        clock,
        TARIFFS,
        POLICIES,
    )
    return "ACC-0000"


def sweep(engine: Engine, clock: SettableClock) -> list[Command]:
    """One head-end command cycle: outbox -> command log -> publish what is due."""
    published: list[Command] = []
    track_relay_commands(SqlUnitOfWork(engine), clock)
    publish_due_commands(SqlUnitOfWork(engine), clock, published.append, POLICIES)
    return published


def ack(command: Command, status: AckStatus, relay_closed: bool | None, n: int) -> Received:
    message = Ack(
        command.discom,
        command.meter_id,
        f"ack-{n}",
        command.issued_at,
        command.command_id,
        status,
        relay_closed,
    )
    topic_name, payload = encode_uplink(message)
    return Received(topic_name, decode_uplink(topic_name, payload))


def test_an_unanswered_disconnect_expires_and_the_cut_is_retried_at_the_next_window(
    engine: Engine,
) -> None:
    clock = SettableClock(ist(2025, 7, 3, 10))
    account_id = cut_due_account(engine, clock)
    clock.set(ist(2025, 7, 3, 10, 0))
    evaluate_supply(EvaluateSupply(account_id), SqlUnitOfWork(engine), clock, POLICIES)
    [first] = sweep(engine, clock)

    clock.set(ist(2025, 7, 4, 10, 1))  # 24 h on, the meter never answered
    assert sweep(engine, clock) == []
    back_in_grace = supply_state(engine, account_id)
    clock.set(ist(2025, 7, 4, 10, 2))
    evaluate_supply(EvaluateSupply(account_id), SqlUnitOfWork(engine), clock, POLICIES)
    [second] = sweep(engine, clock)

    assert first.action is second.action is CommandAction.DISCONNECT
    assert back_in_grace == "grace"
    assert second.command_id != first.command_id
    assert sorted(command_rows(engine), key=lambda r: r[0] != first.command_id)[0][1] == ("expired")
    ingest_uplinks([ack(second, AckStatus.DONE, False, 1)], SqlUnitOfWork(engine), clock, POLICIES)
    assert supply_state(engine, account_id) == "disconnected"


def test_a_reconnect_the_meter_failed_is_sent_again_at_once(engine: Engine) -> None:
    clock = SettableClock(ist(2025, 7, 3, 10))
    account_id = cut_due_account(engine, clock)
    clock.set(ist(2025, 7, 3, 10, 0))
    evaluate_supply(EvaluateSupply(account_id), SqlUnitOfWork(engine), clock, POLICIES)
    [cut] = sweep(engine, clock)
    ingest_uplinks([ack(cut, AckStatus.DONE, False, 1)], SqlUnitOfWork(engine), clock, POLICIES)
    clock.set(ist(2025, 7, 3, 19))
    apply_recharge(
        ApplyRecharge(account_id, 50_000, PaymentRef(PaymentChannel.COUNTER, "R-1")),
        SqlUnitOfWork(engine),
        clock,
        POLICIES,
    )
    [reconnect] = sweep(engine, clock)

    ingest_uplinks(
        [ack(reconnect, AckStatus.FAILED, False, 2)], SqlUnitOfWork(engine), clock, POLICIES
    )
    [again] = sweep(engine, clock)
    ingest_uplinks([ack(again, AckStatus.DONE, True, 3)], SqlUnitOfWork(engine), clock, POLICIES)

    assert again.action is CommandAction.RECONNECT
    assert again.command_id != reconnect.command_id
    assert supply_state(engine, account_id) == "connected"
    assert sorted(status for _, status, _ in command_rows(engine)) == [
        "acknowledged",
        "acknowledged",
        "failed",
    ]
