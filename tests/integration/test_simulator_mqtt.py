"""The simulated fleet against a real Mosquitto: every uplink arrives, in order; commands work."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections import defaultdict
from datetime import timedelta

import aiomqtt
import pytest

from prepaidgrid.domain.meter_protocol import (
    TOPIC_ROOT,
    Ack,
    AckStatus,
    Command,
    CommandAction,
    Event,
    EventKind,
    Rejection,
    Uplink,
    decode_uplink,
    encode_command,
)
from prepaidgrid.simulator.fleet import Fleet
from prepaidgrid.simulator.gateway_links import BrokerAddress, mqtt_links
from prepaidgrid.simulator.meters import SimulatedMeter
from prepaidgrid.simulator.scenario import load_scenario

BROKER = BrokerAddress("127.0.0.1", 1883)
METERS = 20
SIMULATED = timedelta(hours=2)


def _broker_or_skip() -> None:
    try:
        with socket.create_connection((BROKER.host, BROKER.port), timeout=2):
            pass
    except OSError as error:
        reason = f"Mosquitto unreachable at {BROKER.host}:{BROKER.port}: {error}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: integration tests must run, never skip)")
        pytest.skip(reason)


def _expected(meters: list[SimulatedMeter], tick: timedelta) -> list[Uplink]:
    """What the same meters send when stepped without any network: they are deterministic."""
    messages: list[Uplink] = []
    now, end = meters[0].now, meters[0].now + SIMULATED
    while now < end:
        now = min(now + tick, end)
        for meter in meters:
            messages.extend(meter.step(now))
    return messages


async def _wait_for(condition: object, seconds: float) -> None:
    assert callable(condition)
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)


@pytest.mark.integration
def test_twenty_meters_publish_two_hours_and_answer_a_disconnect() -> None:
    _broker_or_skip()
    discom = f"SIMT-{uuid.uuid4().hex[:12]}"  # this run's topics only
    scenario = load_scenario("patna-2021-09", scale=0.001, discom=discom)
    consumers = scenario.consumers[:METERS]
    tick = timedelta(minutes=15)
    expected = _expected([SimulatedMeter(c.meter, scenario.starts_at) for c in consumers], tick)
    target = consumers[3].meter.meter_id
    received: list[Uplink] = []
    rejected: list[Rejection] = []

    async def listen(subscriber: aiomqtt.Client) -> None:
        async for message in subscriber.messages:
            topic_name = message.topic.value
            if topic_name.endswith("/commands"):
                continue
            assert isinstance(message.payload, bytes)
            decoded = decode_uplink(topic_name, message.payload)
            if isinstance(decoded, Rejection):
                rejected.append(decoded)
            else:
                received.append(decoded)

    async def scenario_run() -> tuple[int, list[Uplink], list[Uplink]]:
        async with aiomqtt.Client(BROKER.host, BROKER.port, identifier=f"{discom}-probe") as sub:
            await sub.subscribe(f"{TOPIC_ROOT}/{discom}/meters/+/+", qos=1)
            listener = asyncio.create_task(listen(sub))
            meters = [SimulatedMeter(c.meter, scenario.starts_at) for c in consumers]
            try:
                async with Fleet(meters, links=mqtt_links(BROKER), gateway_size=8) as fleet:
                    stats = await fleet.run(scenario.starts_at + SIMULATED, tick=tick)
                    await _wait_for(lambda: len(received) >= len(expected), 30)
                    published = stats.total_published
                    during_run = list(received)

                    command = Command(
                        discom,
                        target,
                        f"cmd-{uuid.uuid4()}",
                        CommandAction.DISCONNECT,
                        fleet.now,
                        fleet.now + timedelta(hours=1),
                    )
                    await sub.publish(*encode_command(command), qos=1)
                    await _wait_for(lambda: any(isinstance(m, Ack) for m in received), 20)
                    answer = received[len(during_run) :]
            finally:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)
        return published, during_run, answer

    published, uplinks, answer = asyncio.run(scenario_run())

    assert rejected == []
    assert published == len(expected)
    assert len(expected) >= METERS * 4  # at least hourly batches, plus 15-minute meters
    assert sorted((m.meter_id, m.msg_id) for m in uplinks) == sorted(
        (m.meter_id, m.msg_id) for m in expected
    )
    in_order: dict[str, list[str]] = defaultdict(list)
    for uplink in uplinks:
        in_order[uplink.meter_id].append(uplink.msg_id)
    expected_order: dict[str, list[str]] = defaultdict(list)
    for sent in expected:
        expected_order[sent.meter_id].append(sent.msg_id)
    assert in_order == expected_order
    assert [type(m) for m in answer] == [Event, Ack]
    event, ack = answer
    assert isinstance(event, Event)
    assert (event.meter_id, event.kind) == (target, EventKind.RELAY_OPENED)
    assert isinstance(ack, Ack)
    assert (ack.meter_id, ack.status, ack.relay_closed) == (target, AckStatus.DONE, False)
