"""A gateway's one network port: publish uplinks, receive commands; over MQTT or in memory.

`mqtt_links(broker)` opens one aiomqtt client per gateway (QoS 1 both ways, no retain, as
docs/meter-protocol.md asks). `InMemoryNetwork` is the same port without a broker, for
tests and for runs that only need the meters' messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import aiomqtt
from paho.mqtt.client import topic_matches_sub

Encoded = tuple[str, bytes]  # topic, payload


class GatewayLink(Protocol):
    """What a gateway needs from the network."""

    async def publish(self, messages: Sequence[Encoded]) -> None:
        """Publish in order; return once the broker has them all (QoS 1: every PUBACK)."""

    def commands(self) -> AsyncIterator[Encoded]:
        """The messages arriving on the gateway's command subscription, for ever."""


# (client id, command topic filter) -> an open link for as long as the context lasts
LinkOpener = Callable[[str, str], AbstractAsyncContextManager[GatewayLink]]


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str = "127.0.0.1"
    port: int = 1883


class MqttLink:
    def __init__(self, client: aiomqtt.Client) -> None:
        self._client = client

    async def publish(self, messages: Sequence[Encoded]) -> None:
        # aiomqtt awaits each PUBACK; gathering keeps up to the client's window in flight
        # (max_concurrent_outgoing_calls), and its semaphore wakes waiters in order, so the
        # messages leave in the order given.
        await asyncio.gather(
            *(self._client.publish(topic, payload, qos=1) for topic, payload in messages)
        )

    async def commands(self) -> AsyncIterator[Encoded]:
        async for message in self._client.messages:
            payload = message.payload
            raw = bytes(payload) if isinstance(payload, (bytes, bytearray)) else b""
            yield message.topic.value, raw


def mqtt_links(
    broker: BrokerAddress, *, window: int = 128, persistent_session: bool = False
) -> LinkOpener:
    """Open gateways as MQTT clients of `broker`.

    `window` bounds the publishes in flight per client. aiomqtt awaits every PUBACK and
    scans all its pending calls on each publish, so an unbounded gather of thousands is
    quadratic (measured on localhost Mosquitto: 1,500 messages/s unbounded, about 6,000/s
    with a window of 64-256). paho's own in-flight limit is switched off (0) because it
    rescans its queue on every PUBACK; the window does its job instead.

    A persistent session keeps the commands sent while the simulator is down; it is off by
    default so that test runs leave no sessions behind in the broker.
    """

    @asynccontextmanager
    async def open_link(client_id: str, command_filter: str) -> AsyncIterator[GatewayLink]:
        async with aiomqtt.Client(
            broker.host,
            broker.port,
            identifier=client_id,
            clean_session=not persistent_session,
            max_inflight_messages=0,  # paho unbounded (O(1) per PUBACK); the window bounds it
            max_concurrent_outgoing_calls=window,
            timeout=30,
        ) as client:
            client.pending_calls_threshold = window + 16  # the window is intended, not a leak
            await client.subscribe(command_filter, qos=1)
            yield MqttLink(client)

    return open_link


class InMemoryNetwork:
    """A broker stand-in: records what gateways publish, delivers commands to them."""

    def __init__(self) -> None:
        self.published: list[Encoded] = []
        self._subscribers: list[tuple[str, asyncio.Queue[Encoded]]] = []

    def links(self) -> LinkOpener:
        @asynccontextmanager
        async def open_link(client_id: str, command_filter: str) -> AsyncIterator[GatewayLink]:
            inbox: asyncio.Queue[Encoded] = asyncio.Queue()
            entry = (command_filter, inbox)
            self._subscribers.append(entry)
            try:
                yield _MemoryLink(self, inbox)
            finally:
                self._subscribers.remove(entry)

        return open_link

    def deliver(self, topic: str, payload: bytes) -> int:
        """Send a command to every gateway whose filter matches; how many got it."""
        matching = [inbox for sub, inbox in self._subscribers if topic_matches_sub(sub, topic)]
        for inbox in matching:
            inbox.put_nowait((topic, payload))
        return len(matching)


class _MemoryLink:
    def __init__(self, network: InMemoryNetwork, inbox: asyncio.Queue[Encoded]) -> None:
        self._network = network
        self._inbox = inbox

    async def publish(self, messages: Sequence[Encoded]) -> None:
        self._network.published.extend(messages)
        await asyncio.sleep(0)  # a real link yields to the loop; so should the fake

    async def commands(self) -> AsyncIterator[Encoded]:
        while True:
            yield await self._inbox.get()
