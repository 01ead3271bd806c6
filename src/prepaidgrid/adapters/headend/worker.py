"""A head-end worker: paho-mqtt in, batches into the database, acknowledgements after commit.

    broker --(QoS 1, shared subscription)--> on_message: decode --> queue
    flusher thread: batch --> ingest_uplinks (one transaction) --> commit --> PUBACK each
    every second: outbox --> command log --> publish due commands (QoS 1)

Manual acknowledgements and a persistent session (fixed client id, no clean start) are
what make a SIGKILL safe: whatever was not committed was not acknowledged, so the broker
delivers it again when the worker (or its replacement with the same id) reconnects.

MQTT 5 by default, for one reason above all: the worker announces its Receive Maximum, so
the broker may have a whole batch in flight while it waits for our acknowledgements. Over
3.1.1 the broker's own limit applies (Mosquitto's max_inflight_messages, 20 by default),
which caps every transaction at 20 messages. The embedded amqtt broker speaks 3.1.1 only.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from prepaidgrid.domain.meter_protocol import (
    Command,
    Rejection,
    decode_uplink,
    encode_command,
    uplink_subscriptions,
)
from prepaidgrid.services.headend import (
    IngestResult,
    Received,
    ingest_uplinks,
    publish_due_commands,
    track_relay_commands,
)
from prepaidgrid.services.ports import Clock, PolicyBook, UnitOfWork

log = logging.getLogger("prepaidgrid.headend")


def broker_address(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    if parsed.scheme not in ("mqtt", "tcp") or not parsed.hostname:
        raise ValueError(f"MQTT URL must look like mqtt://host:port, got {url!r}")
    return parsed.hostname, parsed.port or 1883


READ_AHEAD_BYTES = 64 * 1024


class ReadAheadClient(mqtt.Client):
    """paho, reading the socket 64 KiB at a time.

    Stock paho reads every packet with three or more recv calls (the command byte, each
    length byte, the body) and a select() before each packet; at thousands of small meter
    messages a second that is most of a worker's network thread. This client reads ahead
    into a buffer, serves paho's small reads from it, and keeps parsing while whole packets
    are buffered. It overrides two private hooks of paho 2.x (`_sock_recv`, `loop_read`);
    tests/integration/test_headend_mqtt.py covers it against Mosquitto.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_ahead = b""
        self._read_at = 0

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._read_at >= len(self._read_ahead):
            data = super()._sock_recv(max(bufsize, READ_AHEAD_BYTES))
            if not data:  # the connection is closed: paho handles the empty read
                return data
            self._read_ahead, self._read_at = data, 0
        chunk = self._read_ahead[self._read_at : self._read_at + bufsize]
        self._read_at += len(chunk)
        return chunk

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        rc = super().loop_read(max_packets)
        while (
            rc == MQTTErrorCode.MQTT_ERR_SUCCESS
            and self._sock is not None
            and self._read_at < len(self._read_ahead)
        ):
            rc = super().loop_read(1)  # each call consumes at least one buffered byte
        return rc

    def _sock_close(self) -> None:
        self._read_ahead, self._read_at = b"", 0  # never parse a dead connection's bytes
        super()._sock_close()


@dataclass
class WorkerStats:
    received: int = 0
    processed: int = 0  # messages whose batch is committed (stored, duplicate or rejected)
    readings: int = 0
    events: int = 0
    acks: int = 0
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    commands_sent: int = 0

    def add(self, result: IngestResult) -> None:
        self.readings += result.readings
        self.events += result.events
        self.acks += result.acks
        self.duplicates += result.duplicates
        self.batches += 1
        for reason, count in result.rejected.items():
            self.rejected[reason] = self.rejected.get(reason, 0) + count


@dataclass(frozen=True)
class WorkerConfig:
    mqtt_url: str
    client_id: str = "prepaidgrid-headend-1"
    shared_group: str | None = "headend"  # None on a broker without shared subscriptions
    batch_size: int = 500
    flush_seconds: float = 0.2
    command_seconds: float = 0.25  # a recharge's reconnect goes out within a quarter second
    mqtt_version: int = 5  # 3 (meaning 3.1.1) for a broker without MQTT 5, like amqtt
    session_expiry_seconds: int = 7 * 24 * 3600  # how long the broker keeps our session

    @property
    def receive_maximum(self) -> int:
        """Deliveries the broker may have unacknowledged: two batches, so one fills while one
        commits."""
        return min(2 * self.batch_size, 65535)


class HeadEndWorker:
    def __init__(
        self,
        config: WorkerConfig,
        new_uow: Callable[[], UnitOfWork],
        clock: Clock,
        policies: PolicyBook,
    ) -> None:
        self.config = config
        self._new_uow = new_uow
        self._clock = clock
        self._policies = policies
        self.stats = WorkerStats()
        self._inbox: queue.Queue[tuple[int, int, Received]] = queue.Queue()
        self._stop = threading.Event()
        if config.mqtt_version not in (3, 5):
            raise ValueError(f"mqtt_version must be 3 (3.1.1) or 5, got {config.mqtt_version}")
        if config.mqtt_version == 5:
            self._client: mqtt.Client = ReadAheadClient(
                CallbackAPIVersion.VERSION2,
                client_id=config.client_id,
                protocol=mqtt.MQTTv5,
                manual_ack=True,
            )
        else:
            self._client = ReadAheadClient(
                CallbackAPIVersion.VERSION2,
                client_id=config.client_id,
                clean_session=False,
                manual_ack=True,
            )
        self._client.max_inflight_messages_set(1000)  # our own publishes (relay commands)
        self._client.max_queued_messages_set(0)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._flusher = threading.Thread(target=self._flush_loop, name="headend-flush")

    # -- MQTT callbacks (paho's network thread) ---------------------------------------------
    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, rc: object, _p: object = None
    ) -> None:
        client.subscribe([(f, 1) for f in uplink_subscriptions(self.config.shared_group)])
        log.info("head-end %s connected (%s)", self.config.client_id, rc)

    def _on_message(self, _client: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        self.stats.received += 1
        decoded = decode_uplink(message.topic, bytes(message.payload))
        if isinstance(decoded, Rejection):
            log.warning("rejected %s: %s (%s)", message.topic, decoded.reason, decoded.detail)
        self._inbox.put((message.mid, message.qos, Received(message.topic, decoded)))

    # -- the flusher thread ------------------------------------------------------------------
    def _flush_loop(self) -> None:
        next_commands = 0.0
        while not self._stop.is_set() or not self._inbox.empty():
            # wait for meter messages no longer than until the next command check is due
            batch = self._take_batch(
                max(0.0, min(self.config.flush_seconds, next_commands - time.monotonic()))
            )
            if batch:
                self._ingest(batch)
            if time.monotonic() >= next_commands:
                self._send_commands()
                next_commands = time.monotonic() + self.config.command_seconds

    def _take_batch(self, wait_s: float) -> list[tuple[int, int, Received]]:
        """Wait up to `wait_s` for a first message, then take whatever else is queued.

        Never waiting for a full batch matters: the broker holds back further deliveries
        until we acknowledge (its in-flight window), and we acknowledge only after commit.
        """
        try:
            batch = [self._inbox.get(timeout=wait_s)] if wait_s > 0 else [self._inbox.get_nowait()]
        except queue.Empty:
            return []
        while len(batch) < self.config.batch_size:
            try:
                batch.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    def _ingest(self, batch: list[tuple[int, int, Received]]) -> None:
        result = ingest_uplinks(
            [received for _, _, received in batch],
            self._new_uow(),
            self._clock,
            self._policies,
        )
        self.stats.add(result)
        for mid, qos, _ in batch:  # only now: the batch is committed
            if qos > 0:
                self._client.ack(mid, qos)
        self.stats.processed += len(batch)

    def _send_commands(self) -> None:
        try:
            track_relay_commands(self._new_uow(), self._clock)
            self.stats.commands_sent += publish_due_commands(
                self._new_uow(), self._clock, self.publish_command, self._policies
            )
        except Exception:  # the database may be restarting: try again next second
            log.exception("relay command dispatch failed; will retry")

    def publish_command(self, command: Command) -> None:
        topic_name, payload = encode_command(command)
        self._client.publish(topic_name, payload, qos=1)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> HeadEndWorker:
        host, port = broker_address(self.config.mqtt_url)
        if self.config.mqtt_version == 5:
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.ReceiveMaximum = self.config.receive_maximum
            properties.SessionExpiryInterval = self.config.session_expiry_seconds
            self._client.connect(host, port, keepalive=30, clean_start=False, properties=properties)
        else:
            self._client.connect(host, port, keepalive=30)
        self._client.loop_start()
        self._flusher.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._flusher.join(timeout=30)
        self._client.loop_stop()
        self._client.disconnect()

    def run_for(self, seconds: float | None) -> WorkerStats:
        self.start()
        try:
            deadline = None if seconds is None else time.monotonic() + seconds
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
        return self.stats
