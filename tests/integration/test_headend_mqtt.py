"""The head-end against a real Mosquitto: shared subscriptions, kills and broker restarts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, text

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.headend.worker import HeadEndWorker, WorkerConfig
from prepaidgrid.domain.meter_protocol import (
    Channel,
    encode_uplink,
    topic,
    uplink_subscriptions,
)
from tests.conftest import database_url, ist
from tests.integration.headend_support import (
    POLICIES,
    count,
    install_meters,
    reading,
    wait_until,
)
from tests.integration.mosquitto import Mosquitto

pytestmark = pytest.mark.integration


def client(client_id: str, broker: Mosquitto, *, clean: bool = True) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    return c


def prime_session(broker: Mosquitto, client_id: str) -> None:
    """Create the worker's persistent session and subscription, as a deployment would on
    first start: from then on the broker queues its share even while it is down."""
    subscribed = threading.Event()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    c.on_subscribe = lambda *_args: subscribed.set()
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    c.subscribe([(f, 1) for f in uplink_subscriptions("headend")])
    assert subscribed.wait(5)
    c.disconnect()
    c.loop_stop()


def start_worker(url: str, broker: Mosquitto, client_id: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prepaidgrid.entrypoints.cli",
            "headend",
            "--db",
            url,
            "--mqtt-url",
            broker.url,
            "--client-id",
            client_id,
            "--seconds",
            "120",
        ],
        env={**os.environ, "PREPAIDGRID_LOG_LEVEL": "ERROR"},
    )


def test_two_workers_share_the_stream_and_a_killed_one_loses_and_doubles_nothing(
    engine: Engine, mosquitto: Mosquitto
) -> None:
    meters = install_meters(engine, 20)
    url = database_url(engine)
    for name in ("hw-1", "hw-2"):
        prime_session(mosquitto, name)
    workers = {name: start_worker(url, mosquitto, name) for name in ("hw-1", "hw-2")}
    publisher = client("meters", mosquitto)
    messages = [encode_uplink(reading(m, n)) for n in range(50) for m in meters]

    for sent, (topic_name, payload) in enumerate(messages):
        publisher.publish(topic_name, payload, qos=1)
        if sent == 300:
            workers["hw-1"].send_signal(signal.SIGKILL)  # mid-stream, mid-batch
            workers["hw-1"].wait()
        if sent == 700:
            workers["hw-1"] = start_worker(url, mosquitto, "hw-1")  # systemd restarts it
        time.sleep(0.002)

    wait_until(lambda: count(engine, "register_reads") >= len(messages), 60, "every reading stored")
    time.sleep(1.0)  # anything doubled would land now
    for worker in workers.values():
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=30)
    publisher.loop_stop()
    assert count(engine, "register_reads") == len(messages) == 1000
    assert count(engine, "meter_messages") == len(messages)
    with engine.connect() as db:
        per_meter = (
            db.execute(text("SELECT count(DISTINCT read_at) FROM register_reads GROUP BY meter_id"))
            .scalars()
            .all()
        )
    assert set(per_meter) == {50}


def test_garbage_on_the_wire_is_rejected_with_reasons_and_the_worker_carries_on(
    engine: Engine, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    meter_id = install_meters(engine, 1)[0]
    clock = SettableClock(ist(2025, 7, 2, 9))
    worker = HeadEndWorker(
        WorkerConfig(mosquitto.url, "hw-garbage", None),
        lambda: SqlUnitOfWork(engine),
        clock,
        POLICIES,
    ).start()
    time.sleep(0.5)
    sender = client("vandal", mosquitto)
    good_topic, good = encode_uplink(reading(meter_id, 0))
    for payload in (b"\xff\xfe", b"[]", b"{}", b"x" * 100_000, good):
        sender.publish(good_topic, payload, qos=1)
    sender.publish(
        topic("SBPDCL", "SM-NOBODY", Channel.READINGS),
        encode_uplink(reading("SM-NOBODY", 0))[1],
        qos=1,
    )

    wait_until(lambda: count(engine, "rejected_messages") >= 5, 10, "the rejections")
    wait_until(lambda: count(engine, "register_reads") == 1, 10, "the one good reading")
    worker.stop()
    sender.loop_stop()
    with engine.connect() as db:
        reasons = db.execute(text("SELECT DISTINCT reason FROM rejected_messages")).scalars()
        assert {"not_json", "not_an_object", "oversized", "unknown_meter"} <= set(reasons)
    assert count(engine, "journals") == 0
    assert sum(worker.stats.rejected.values()) == 5
