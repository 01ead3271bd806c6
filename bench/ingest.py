"""Benchmark meter-data ingestion: simulated meters -> MQTT -> head-end -> database.

Prints one JSON object. For each broker (the embedded amqtt one, and Mosquitto at
--mqtt-url) it times the same pre-generated messages twice over:

- the floor: a bare paho subscriber on the run's topics, counting arrivals (no decoding,
  no database): the fastest this broker and paho move these messages (best of two runs);
- the pipeline: head-end workers (HeadEndWorker) storing them, until all are committed.

The messages come from the Patna scenario's simulated meters, stepped --hours ahead before
anything is timed. A separate process publishes them at QoS 1, so that it takes no GIL from
the side measured, and keeps at most --window of them unacknowledged by that side: Mosquitto
silently drops QoS 1 messages beyond a client's queue (max_queued_messages, 1000 by default),
and a benchmark that loses messages measures nothing. The default window is what the broker
lets through without queueing: on MQTT 5 each worker's Receive Maximum (two batches), on
3.1.1 (the embedded broker) the 1000 of the queue. With a broker configured without limits,
--window 0 publishes open loop, as meters do.

The workers subscribe to every DISCOM's topics (as the head-end does): never run two of these
benchmarks against one broker at the same time.

Mosquitto's workers run in processes of their own, as deployments scale out (the GIL); the
embedded broker's one worker runs in this process beside it, as the zero-setup CLI does.
Each leg has its own DISCOM and meter ids, so nothing is a duplicate of another leg's, and
its own database: a fresh SQLite file, or a fresh schema when --db names PostgreSQL (a given
SQLite file is shared by the legs).

    python bench/ingest.py [--meters N] [--hours H] [--db URL] [--mqtt-url URL]
                           [--workers N] [--window N] [--skip-embedded]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from prepaidgrid.adapters.books import PackagedPolicyBook
from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.engine import make_engine
from prepaidgrid.adapters.db.migrate import upgrade
from prepaidgrid.adapters.db.tables import (
    interval_blocks,
    meter_events,
    meter_messages,
    register_reads,
    rejected_messages,
)
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.headend.broker import EmbeddedBroker, free_port
from prepaidgrid.adapters.headend.worker import (
    HeadEndWorker,
    WorkerConfig,
    WorkerStats,
    broker_address,
)
from prepaidgrid.domain.accounts import NewConnection, OrgLevel, OrgUnit
from prepaidgrid.domain.meter_protocol import (
    TOPIC_ROOT,
    Channel,
    Event,
    Reading,
    Uplink,
    encode_uplink,
    uplink_subscriptions,
)
from prepaidgrid.services.onboarding import (
    InstallSmartMeter,
    add_org_units,
    install_smart_meter,
    open_connection,
)
from prepaidgrid.simulator import Consumer, SimulatedMeter, load_scenario
from prepaidgrid.simulator.scenario import read_divisions

DEFAULT_MQTT_URL = "mqtt://127.0.0.1:1883"
TICK = timedelta(minutes=15)
ACK_SECONDS = 0.05  # a worker acknowledges a batch right after its commit; give it this long
TARGET_RATIO = 0.5  # the target: the pipeline at half the floor, on Mosquitto
Encoded = tuple[str, bytes]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meters", type=int, default=300)
    parser.add_argument("--hours", type=int, default=24, help="simulated hours of readings")
    parser.add_argument("--db", dest="db_url", help="default: a fresh SQLite file per broker")
    parser.add_argument("--mqtt-url", default=DEFAULT_MQTT_URL, help="the Mosquitto leg")
    parser.add_argument("--workers", type=int, default=2, help="head-end workers on Mosquitto")
    parser.add_argument("--batch-size", type=int, default=WorkerConfig.batch_size)
    parser.add_argument("--flush-seconds", type=float, default=WorkerConfig.flush_seconds)
    parser.add_argument(
        "--window",
        type=int,
        default=None,
        help="default: what the workers take in flight; 0: open loop",
    )
    parser.add_argument("--skip-embedded", action="store_true")
    parser.add_argument(
        "--mqtt-version",
        type=int,
        choices=(3, 5),
        default=5,
        help="the Mosquitto workers' protocol (3 = 3.1.1: the broker's in-flight limit rules)",
    )
    parser.add_argument(
        "--worker-threads", action="store_true", help="Mosquitto's workers as threads, here"
    )
    figures = run(**vars(parser.parse_args()))
    print(json.dumps(figures, indent=2))


def run(
    *,
    meters: int,
    hours: int,
    db_url: str | None = None,
    mqtt_url: str | None = DEFAULT_MQTT_URL,
    workers: int = 2,
    batch_size: int = WorkerConfig.batch_size,
    flush_seconds: float = WorkerConfig.flush_seconds,
    window: int | None = None,
    skip_embedded: bool = False,
    worker_threads: bool = False,
    mqtt_version: int = 5,
) -> dict[str, Any]:
    """Time both legs; `mqtt_url=None` skips the Mosquitto leg."""
    started = time.perf_counter()
    workload = simulate(meters, hours)
    generate_s = time.perf_counter() - started
    tag = uuid.uuid4().hex[:6]  # this run's DISCOMs, meter ids and client ids
    legs: list[tuple[str, str | None, int, bool, int]] = []
    if not skip_embedded:  # one worker (no shared subscriptions, MQTT 3.1.1), beside its broker
        legs.append(("embedded", None, 1, False, 3))
    if mqtt_url is not None:
        legs.append(("mosquitto", mqtt_url, workers, not worker_threads, mqtt_version))
    brokers: dict[str, dict[str, Any]] = {}
    database = None
    for index, (name, url, worker_count, processes, version) in enumerate(legs):
        key = f"b{tag}{index}"
        leg_window = default_window(worker_count, batch_size, version) if window is None else window
        leg = Leg(
            name, key, worker_count, processes, batch_size, flush_seconds, leg_window, version
        )
        with leg_database(db_url, leg.key) as engine, broker_url(url) as address:
            brokers[name] = run_leg(leg, address, engine, workload)
            database = engine.dialect.name
    mosquitto = brokers.get("mosquitto")
    return {
        "benchmark": "meter-ingest",
        "database": database,
        "meters": len(workload.consumers),
        "hours": hours,
        "messages": workload.expected.messages,
        "readings": workload.expected.readings,
        "interval_blocks": workload.expected.blocks,
        "events": workload.expected.events,
        "batch_size": batch_size,
        "flush_seconds": flush_seconds,
        "generate_s": round(generate_s, 2),
        "brokers": brokers,
        "target_ratio_on_mosquitto": TARGET_RATIO,
        "target_met": None if mosquitto is None else mosquitto["ratio_to_floor"] >= TARGET_RATIO,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "children_peak_rss_mb": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }


# -- the messages ---------------------------------------------------------------------------------


def simulate(meters: int, hours: int) -> Workload:
    """`meters` consumers spread over Patna's divisions, stepped `hours` a tick at a time."""
    installed = sum(division.smart_meters_installed for division in read_divisions())
    scenario = load_scenario(
        "patna-2021-09", scale=1.2 * meters / installed, replacement_after=None
    )
    pool = scenario.consumers
    consumers = [pool[n * len(pool) // meters] for n in range(min(meters, len(pool)))]
    fleet = [SimulatedMeter(consumer.meter, scenario.starts_at) for consumer in consumers]
    uplinks: list[Uplink] = []
    for tick in range(1, hours * 4 + 1):
        until = scenario.starts_at + tick * TICK
        for meter in fleet:
            uplinks.extend(meter.step(until))
    return Workload(consumers, uplinks, scenario.starts_at, Expected.of(uplinks))


@dataclass(frozen=True)
class Expected:
    messages: int
    readings: int  # distinct (meter, read_at): the midnight daily and block load share one
    blocks: int  # distinct (meter, block start)
    events: int

    @classmethod
    def of(cls, uplinks: Sequence[Uplink]) -> Expected:
        readings = [u for u in uplinks if isinstance(u, Reading)]
        return cls(
            messages=len({(u.meter_id, u.msg_id) for u in uplinks}),
            readings=len({(r.meter_id, r.read_at) for r in readings}),
            blocks=len({(r.meter_id, b.start) for r in readings for b in r.blocks}),
            events=sum(isinstance(u, Event) for u in uplinks),
        )


@dataclass(frozen=True)
class Workload:
    consumers: list[Consumer]
    uplinks: list[Uplink]
    starts_at: datetime
    expected: Expected


@dataclass(frozen=True)
class Leg:
    name: str
    key: str  # prefixes this leg's meter and account ids; its DISCOM is "D" + key
    workers: int
    worker_processes: bool  # False: threads of this process
    batch_size: int
    flush_seconds: float
    window: int
    mqtt_version: int  # the head-end workers' protocol: 5, or 3 (3.1.1) for amqtt

    @property
    def discom(self) -> str:
        return f"D{self.key}"

    def messages(self, uplinks: Sequence[Uplink]) -> list[Encoded]:
        return [
            encode_uplink(replace(u, discom=self.discom, meter_id=self.key + u.meter_id))
            for u in uplinks
        ]

    def topic_filters(self) -> list[str]:
        channels = (Channel.READINGS, Channel.EVENTS, Channel.ACKS)
        return [f"{TOPIC_ROOT}/{self.discom}/meters/+/{c.value}" for c in channels]


# -- one broker: setup, floor, pipeline -----------------------------------------------------------


def default_window(workers: int, batch_size: int, mqtt_version: int) -> int:
    """Messages the broker hands the workers without queueing any (see the module doc)."""
    if mqtt_version == 5:
        return workers * WorkerConfig("mqtt://unused", batch_size=batch_size).receive_maximum
    return 1000


def run_leg(leg: Leg, url: str, engine: Engine, workload: Workload) -> dict[str, Any]:
    started = time.perf_counter()
    install_meters(engine, leg, workload)
    messages = leg.messages(workload.uplinks)
    setup_s = time.perf_counter() - started
    floors = [time_floor(leg, url, messages, run=1)]  # the floor varies more: best of two
    pipeline_s, totals = time_pipeline(leg, url, engine, workload, messages)
    floors.append(time_floor(leg, url, messages, run=2))
    floor_s = min(floors)
    expected = workload.expected
    stored = stored_counts(engine, leg)
    return {
        "url": url,
        "workers": leg.workers,
        "window": leg.window,
        "worker_mode": "process" if leg.worker_processes else "thread",
        "worker_mqtt_version": "5" if leg.mqtt_version == 5 else "3.1.1",
        "setup_s": round(setup_s, 2),
        "floor_seconds": round(floor_s, 3),
        "floor_runs_msgs_per_s": [round(expected.messages / s, 1) for s in floors],
        "floor_msgs_per_s": round(expected.messages / floor_s, 1),
        "floor_blocks_per_s": round(expected.blocks / floor_s, 1),
        "pipeline_seconds": round(pipeline_s, 3),
        "pipeline_msgs_per_s": round(expected.messages / pipeline_s, 1),
        "pipeline_readings_per_s": round(expected.readings / pipeline_s, 1),
        "pipeline_blocks_per_s": round(expected.blocks / pipeline_s, 1),
        "ratio_to_floor": round(floor_s / pipeline_s, 3),
        **totals,
        "stored": stored,
        "stored_exactly_once": stored
        == {
            "messages": expected.messages,
            "readings": expected.readings,
            "interval_blocks": expected.blocks,
            "events": expected.events,
            "rejected": 0,
        },
    }


def install_meters(engine: Engine, leg: Leg, workload: Workload) -> None:
    """An org chain under the leg's DISCOM, and an account with its meter per consumer."""
    clock = SettableClock(workload.starts_at - timedelta(days=1))
    policies = PackagedPolicyBook()
    subdivision = f"{leg.key}-S"
    add_org_units(
        [
            OrgUnit(leg.discom, OrgLevel.DISCOM, "bench"),
            OrgUnit(f"{leg.key}-C", OrgLevel.CIRCLE, "bench", parent_code=leg.discom),
            OrgUnit(f"{leg.key}-V", OrgLevel.DIVISION, "bench", parent_code=f"{leg.key}-C"),
            OrgUnit(subdivision, OrgLevel.SUBDIVISION, "bench", parent_code=f"{leg.key}-V"),
        ],
        SqlUnitOfWork(engine),
    )
    for n, consumer in enumerate(workload.consumers):
        account_id = f"{leg.key}-{consumer.account_id}"
        connection = NewConnection(
            account_id,
            f"Consumer {n}",
            f"9{n:09d}",
            consumer.category,
            consumer.sanctioned_load_w,
            subdivision,
            leg.discom,
        )
        open_connection(connection, SqlUnitOfWork(engine), clock)
        meter = InstallSmartMeter(account_id, leg.key + consumer.meter.meter_id)
        install_smart_meter(meter, SqlUnitOfWork(engine), clock, policies)


def time_floor(leg: Leg, url: str, messages: Sequence[Encoded], run: int) -> float:
    """Seconds from the first publish until a bare subscriber has every message."""
    with (
        Publisher(url, f"{leg.key}-pub-floor{run}", messages, leg.window) as publisher,
        _connected(url, f"{leg.key}-floor", clean=True, version=leg.mqtt_version) as subscriber,
    ):
        consumed, subscribed = publisher.consumed, threading.Event()

        def on_message(_c: mqtt.Client, _u: object, _m: mqtt.MQTTMessage) -> None:
            consumed.value += 1  # paho's network thread is the only writer

        subscriber.on_message = on_message
        subscriber.on_subscribe = lambda *_args: subscribed.set()
        subscriber.subscribe([(f, 1) for f in leg.topic_filters()])
        if not subscribed.wait(10):
            raise RuntimeError(f"the floor subscriber got no SUBACK from {url}")
        total = len(messages)
        return publisher.time_until(lambda: consumed.value >= total, "the floor subscriber")


def time_pipeline(
    leg: Leg, url: str, engine: Engine, workload: Workload, messages: Sequence[Encoded]
) -> tuple[float, dict[str, int]]:
    """Seconds from the first publish until the workers have committed every message."""
    group = None if leg.workers == 1 else f"g{leg.key}"  # unique: other runs' workers keep out
    configs = [
        WorkerConfig(
            url,
            f"{leg.key}-headend-{n}",
            group,
            leg.batch_size,
            leg.flush_seconds,
            mqtt_version=leg.mqtt_version,
        )
        for n in range(leg.workers)
    ]
    clock_at = workload.starts_at + timedelta(days=30)
    workers: list[WorkerThread | WorkerProcess] = [
        WorkerProcess(config, engine, clock_at)
        if leg.worker_processes
        else WorkerThread(config, engine, clock_at)
        for config in configs
    ]
    total = workload.expected.messages
    try:
        with Publisher(url, f"{leg.key}-pub", messages, leg.window) as publisher:
            for config in configs:  # subscribed before the first publish: nothing is missed
                prime_session(url, config.client_id, group, leg.mqtt_version)
            for worker in workers:
                worker.start()
            time.sleep(0.5)  # connected; the clock starts at the first publish
            counts: deque[tuple[float, int]] = deque([(0.0, 0)])

            def all_stored() -> bool:
                now, processed = time.perf_counter(), sum(w.processed for w in workers)
                counts.append((now, processed))
                while len(counts) > 1 and counts[1][0] <= now - ACK_SECONDS:
                    counts.popleft()
                publisher.consumed.value = counts[0][1]  # committed a while ago: acknowledged
                if processed < total:
                    return False  # cheap; the database has the last word
                return stored_counts(engine, leg)["messages"] >= total

            seconds = publisher.time_until(all_stored, "the head-end workers")
    finally:
        stats = [worker.stop() for worker in workers]
        for config in configs:
            forget_session(url, config.client_id, leg.mqtt_version)
    return seconds, {
        "batches": sum(s.batches for s in stats),
        "duplicates": sum(s.duplicates for s in stats),
    }


class WorkerThread:
    """A head-end worker in this process, as the zero-setup CLI runs it beside its broker."""

    def __init__(self, config: WorkerConfig, engine: Engine, clock_at: datetime) -> None:
        self._worker = HeadEndWorker(
            config, lambda: SqlUnitOfWork(engine), SettableClock(clock_at), PackagedPolicyBook()
        )
        self._started = False

    def start(self) -> None:
        self._worker.start()
        self._started = True

    @property
    def processed(self) -> int:
        return self._worker.stats.processed

    def stop(self) -> WorkerStats:
        if self._started:
            self._worker.stop()
        return self._worker.stats


class WorkerProcess:
    """A head-end worker in a process of its own (its own GIL), as deployments scale out."""

    def __init__(self, config: WorkerConfig, engine: Engine, clock_at: datetime) -> None:
        context = multiprocessing.get_context("spawn")
        self._processed: Any = context.Value("q", 0, lock=False)
        self._ready, self._stop = context.Event(), context.Event()
        self._stats, child_end = context.Pipe(duplex=False)
        database_url = engine.url.render_as_string(hide_password=False)
        self._process = context.Process(
            target=serve,
            args=(config, database_url, clock_at, self._processed, self._ready, self._stop),
            kwargs={"report": child_end},
            name=f"bench-{config.client_id}",
            daemon=True,
        )

    def start(self) -> None:
        self._process.start()
        if not self._ready.wait(60):
            self._process.terminate()
            raise RuntimeError("the worker process did not start within 60 s")

    @property
    def processed(self) -> int:
        return int(self._processed.value)

    def stop(self) -> WorkerStats:
        if self._process.pid is None:  # never started
            return WorkerStats()
        self._stop.set()
        stats = self._stats.recv() if self._stats.poll(60) else WorkerStats()
        self._process.join(timeout=30)
        return stats


def serve(
    config: WorkerConfig,
    database_url: str,
    clock_at: datetime,
    processed: Any,
    ready: Any,
    stop: Any,
    *,
    report: Any,
) -> None:
    """A worker process's body: run until told to stop, counting commits into `processed`."""
    engine = make_engine(database_url)
    worker = WorkerThread(config, engine, clock_at)
    worker.start()
    ready.set()
    while not stop.is_set():  # a cheap poll: a timed multiprocessing wait costs the GIL
        processed.value = worker.processed
        time.sleep(0.005)
    report.send(worker.stop())
    engine.dispose()


def stored_counts(engine: Engine, leg: Leg) -> dict[str, int]:
    """This leg's rows: its meter ids start with the leg's key, its topics with its DISCOM."""
    counted = {
        "messages": meter_messages,
        "readings": register_reads,
        "interval_blocks": interval_blocks,
        "events": meter_events,
    }
    counts = {}
    with engine.connect() as db:
        for name, table in counted.items():
            query = select(func.count()).where(table.c.meter_id.startswith(leg.key))
            counts[name] = int(db.scalar(query) or 0)
        topic_prefix = f"{TOPIC_ROOT}/{leg.discom}/"
        query = select(func.count()).where(rejected_messages.c.topic.startswith(topic_prefix))
        counts["rejected"] = int(db.scalar(query) or 0)
    return counts


# -- MQTT: the publisher process and the workers' sessions ----------------------------------------


class Publisher:
    """A child process that publishes `messages` (QoS 1) once told to go.

    It keeps at most `window` messages published but not yet consumed; the parent counts
    consumption into `consumed`, a shared integer.
    """

    def __init__(self, url: str, client_id: str, messages: Sequence[Encoded], window: int):
        context = multiprocessing.get_context("spawn")  # fork and threads do not mix
        self.consumed: Any = context.Value("q", 0, lock=False)
        self._ready, self._go = context.Event(), context.Event()
        self._total = len(messages)
        self._process = context.Process(
            target=publish,
            args=(url, client_id, list(messages), window, self.consumed, self._ready, self._go),
            name="bench-publisher",
            daemon=True,
        )

    def __enter__(self) -> Publisher:
        self._process.start()
        if not self._ready.wait(60):
            self._process.terminate()
            raise RuntimeError("the publisher process did not connect within 60 s")
        return self

    def time_until(self, is_done: Callable[[], bool], what: str) -> float:
        """Say go; return the seconds until `is_done()`, polled every 2 ms."""
        timeout = 60 + self._total / 200
        started = time.perf_counter()
        self._go.set()
        while not is_done():
            if time.perf_counter() - started > timeout:
                raise TimeoutError(
                    f"{what} had {self.consumed.value:,} of {self._total:,} messages after "
                    f"{timeout:.0f} s. A broker that drops QoS 1 messages beyond a client's "
                    "queue (Mosquitto's max_queued_messages) needs a smaller --window."
                )
            time.sleep(0.002)
        return time.perf_counter() - started

    def __exit__(self, *exc: object) -> None:
        self._go.set()
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()


def publish(
    url: str,
    client_id: str,
    messages: list[Encoded],
    window: int,
    consumed: Any,
    ready: Any,
    go: Any,
) -> None:
    """The publisher process's body."""
    host, port = broker_address(url)
    connected, acked, published = threading.Event(), threading.Event(), 0

    def on_publish(*_args: object) -> None:
        nonlocal published
        published += 1
        if published == len(messages):
            acked.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.max_inflight_messages_set(0)  # the window bounds what is in flight
    client.on_connect = lambda *_args: connected.set()
    client.on_publish = on_publish
    client.connect(host, port)
    client.loop_start()
    if not connected.wait(30):
        return
    ready.set()
    go.wait()
    for sent, (topic_name, payload) in enumerate(messages):
        while window and sent - consumed.value >= window:
            time.sleep(0.0005)
        client.publish(topic_name, payload, qos=1)
    acked.wait(120)
    client.disconnect()
    client.loop_stop()


def prime_session(url: str, client_id: str, group: str | None, version: int) -> None:
    """The worker's persistent session and subscription, made before anything is published."""
    with _connected(url, client_id, clean=False, version=version) as client:
        subscribed = threading.Event()
        client.on_subscribe = lambda *_args: subscribed.set()
        client.subscribe([(f, 1) for f in uplink_subscriptions(group)])
        if not subscribed.wait(10):
            raise RuntimeError(f"no SUBACK from {url} for {client_id}")


def forget_session(url: str, client_id: str, version: int) -> None:
    """A clean-session connect discards the worker's session: the broker keeps nothing."""
    with _connected(url, client_id, clean=True, version=version):
        pass


@contextmanager
def _connected(url: str, client_id: str, *, clean: bool, version: int) -> Iterator[mqtt.Client]:
    """A stock paho client. On MQTT 5 it announces the largest Receive Maximum, so the broker
    never holds messages back for it, and a persistent session lasts a day."""
    host, port = broker_address(url)
    connected = threading.Event()
    if version == 5:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.ReceiveMaximum = 65535
        properties.SessionExpiryInterval = 0 if clean else 24 * 3600
        client.on_connect = lambda *_args: connected.set()
        client.connect(host, port, clean_start=clean, properties=properties)
    else:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
        client.on_connect = lambda *_args: connected.set()
        client.connect(host, port)
    client.loop_start()
    try:
        if not connected.wait(10):
            raise RuntimeError(f"no CONNACK from {url} for {client_id}")
        yield client
    finally:
        client.disconnect()
        client.loop_stop()


# -- databases and brokers ------------------------------------------------------------------------


@contextmanager
def leg_database(url: str | None, key: str) -> Iterator[Engine]:
    """A fresh SQLite file (no URL), a fresh PostgreSQL schema, or the given SQLite file."""
    if url is None:
        with tempfile.TemporaryDirectory() as folder:
            yield from _migrated(f"sqlite:///{Path(folder) / 'ingest.db'}")
        return
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        yield from _migrated(url)
        return
    schema = f"bench_{key}"
    admin = make_engine(url)
    with admin.begin() as db:
        db.execute(text(f"CREATE SCHEMA {schema}"))
    private = parsed.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield from _migrated(private.render_as_string(hide_password=False), pool_size=8)
    finally:
        with admin.begin() as db:
            db.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _migrated(url: str, **kwargs: Any) -> Iterator[Engine]:
    engine = make_engine(url, **kwargs)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@contextmanager
def broker_url(url: str | None) -> Iterator[str]:
    """The given broker, or an embedded one on a free port for as long as the leg lasts."""
    if url is not None:
        yield url
        return
    with EmbeddedBroker(port=free_port()) as broker:
        yield broker.url


if __name__ == "__main__":
    main()
