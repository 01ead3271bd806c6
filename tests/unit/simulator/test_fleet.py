"""The fleet on an in-memory network: gateways, ticks, the hook, commands, pacing."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from prepaidgrid.domain.meter_protocol import (
    Ack,
    AckStatus,
    Command,
    CommandAction,
    Reading,
    decode_uplink,
    encode_command,
)
from prepaidgrid.domain.units import IST
from prepaidgrid.simulator.fleet import Fleet
from prepaidgrid.simulator.gateway_links import InMemoryNetwork
from prepaidgrid.simulator.load_profiles import DS_II, CoolingTier, HouseholdProfile
from prepaidgrid.simulator.meters import MeterSpec, Replacement, SimulatedMeter

START = datetime(2021, 9, 6, tzinfo=IST)


def _meters(count: int) -> list[SimulatedMeter]:
    household = HouseholdProfile(DS_II, 4, CoolingTier.FAN)
    return [
        SimulatedMeter(
            MeterSpec("TEST", f"SM{10000001 + n}", household, f"seed-{n}"),
            START,
        )
        for n in range(count)
    ]


def _disconnect(meter_id: str, command_id: str = "c-1") -> tuple[str, bytes]:
    command = Command(
        "TEST", meter_id, command_id, CommandAction.DISCONNECT, START, START + timedelta(days=7)
    )
    return encode_command(command)


def test_meters_are_split_into_gateways_of_at_most_the_given_size() -> None:
    fleet = Fleet(_meters(5), links=InMemoryNetwork().links(), gateway_size=2)

    assert fleet.gateways == 3


def test_a_fleet_refuses_meters_of_two_discoms() -> None:
    meters = _meters(2)
    other = SimulatedMeter(replace(meters[1].spec, discom="OTHER"), START)

    with pytest.raises(ValueError, match="one DISCOM"):
        Fleet([meters[0], other], links=InMemoryNetwork().links())


def test_a_run_publishes_every_meter_s_blocks_and_calls_the_hook_each_tick() -> None:
    network = InMemoryNetwork()
    steps: list[datetime] = []

    async def scenario() -> None:
        async with Fleet(_meters(5), links=network.links(), gateway_size=2) as fleet:
            await fleet.run(START + timedelta(hours=2), on_step=steps.append)

    asyncio.run(scenario())

    assert steps == [START + timedelta(minutes=15 * n) for n in range(1, 9)]
    readings = [decode_uplink(topic, payload) for topic, payload in network.published]
    assert len(readings) == 5 * 8
    assert all(isinstance(reading, Reading) for reading in readings)


def test_an_async_hook_is_awaited_and_a_short_last_tick_ends_on_time() -> None:
    network = InMemoryNetwork()
    seen: list[datetime] = []

    async def hook(at: datetime) -> None:
        await asyncio.sleep(0)
        seen.append(at)

    async def scenario() -> datetime:
        async with Fleet(_meters(1), links=network.links()) as fleet:
            await fleet.run(START + timedelta(minutes=40), tick=timedelta(minutes=30), on_step=hook)
            return fleet.now

    end = asyncio.run(scenario())

    assert seen == [START + timedelta(minutes=30), START + timedelta(minutes=40)]
    assert end == START + timedelta(minutes=40)


def test_a_command_reaches_only_its_meter_s_gateway_and_is_acked() -> None:
    network = InMemoryNetwork()

    async def scenario() -> Fleet:
        async with Fleet(_meters(4), links=network.links(), gateway_size=2) as fleet:
            await fleet.run(START + timedelta(hours=1))
            delivered_to = network.deliver(*_disconnect("SM10000003"))
            assert delivered_to == 2  # both gateways subscribe to the DISCOM's wildcard
            for _ in range(10):
                await asyncio.sleep(0)
            await fleet.run(START + timedelta(hours=2))
            return fleet

    fleet = asyncio.run(scenario())

    acks = [
        message
        for message in (decode_uplink(t, p) for t, p in network.published)
        if isinstance(message, Ack)
    ]
    assert len(acks) == 1
    assert (acks[0].meter_id, acks[0].status, acks[0].relay_closed) == (
        "SM10000003",
        AckStatus.DONE,
        False,
    )
    assert fleet.meter("SM10000003").relay_closed is False
    assert (fleet.stats.commands, fleet.stats.not_ours) == (1, 1)
    assert fleet.stats.published["acks"] == 1


def test_a_refused_command_is_counted_and_the_gateway_keeps_listening() -> None:
    network = InMemoryNetwork()

    async def scenario() -> Fleet:
        async with Fleet(_meters(1), links=network.links()) as fleet:
            network.deliver("prepaidgrid/v1/TEST/meters/SM10000001/commands", b"not json")
            network.deliver(*_disconnect("SM10000001"))
            for _ in range(10):
                await asyncio.sleep(0)
            return fleet

    fleet = asyncio.run(scenario())

    assert fleet.stats.refused_commands == 1
    assert fleet.stats.refusals[0].reason == "not_json"
    assert fleet.stats.commands == 1


def test_after_a_replacement_commands_go_to_the_new_meter_id() -> None:
    network = InMemoryNetwork()
    household = HouseholdProfile(DS_II, 4, CoolingTier.FAN)
    spec = MeterSpec(
        "TEST", "SM10000001", household, "s", replacement=Replacement(timedelta(hours=1), "SM9")
    )

    async def scenario() -> Fleet:
        async with Fleet([SimulatedMeter(spec, START)], links=network.links()) as fleet:
            await fleet.run(START + timedelta(hours=2))
            network.deliver(*_disconnect("SM10000001", "old"))
            network.deliver(*_disconnect("SM9", "new"))
            for _ in range(10):
                await asyncio.sleep(0)
            return fleet

    fleet = asyncio.run(scenario())

    assert fleet.meter("SM9").relay_closed is False
    assert (fleet.stats.commands, fleet.stats.not_ours) == (1, 1)


def test_a_speed_factor_paces_the_simulated_clock() -> None:
    network = InMemoryNetwork()

    async def scenario() -> None:
        async with Fleet(_meters(1), links=network.links()) as fleet:
            await fleet.run(START + timedelta(hours=1), speed=3600 / 0.2)  # an hour in 0.2 s

    started = time.perf_counter()
    asyncio.run(scenario())

    assert 0.19 <= time.perf_counter() - started < 2.0
