"""Many simulated meters in one asyncio process, behind gateways, on a simulated clock.

A gateway is what a data concentrator is in the field: one network connection for up to
`gateway_size` meters. It publishes its meters' uplinks on their own topics and listens
on the DISCOM's command wildcard, keeping only commands for its own meters.

Time is simulated: `run(until, tick=...)` advances the clock a tick at a time, steps every
meter to the new instant, publishes what they send, then calls the hook (where an
orchestrator bills and recharges). Commands are handled as they arrive, at the clock's
current instant.

    async with Fleet(scenario.meters(), links=mqtt_links(BrokerAddress())) as fleet:
        stats = await fleet.run(until, on_step=bill_and_recharge)
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType

from prepaidgrid.domain.meter_protocol import (
    Channel,
    Rejection,
    Uplink,
    decode_command,
    encode_uplink,
    topic,
)
from prepaidgrid.domain.units import require_utc
from prepaidgrid.simulator.gateway_links import GatewayLink, LinkOpener
from prepaidgrid.simulator.meters import SimulatedMeter

DEFAULT_TICK = timedelta(minutes=15)
GATEWAY_SIZE = 500

StepHook = Callable[[datetime], Awaitable[None] | None]


@dataclass
class FleetStats:
    ticks: int = 0
    published: dict[str, int] = field(default_factory=dict)  # per channel: readings, ...
    commands: int = 0  # handed to one of our meters
    not_ours: int = 0  # for a meter another gateway serves, or an unknown (replaced) one
    refused_commands: int = 0  # decode_command said no
    refusals: list[Rejection] = field(default_factory=list)  # the last few, for a log

    @property
    def total_published(self) -> int:
        return sum(self.published.values())

    def count(self, topic_name: str) -> None:
        channel = topic_name.rsplit("/", 1)[1]
        self.published[channel] = self.published.get(channel, 0) + 1


class SimulatedClock:
    def __init__(self, start: datetime) -> None:
        self._now = require_utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        if at < self._now:
            raise ValueError(f"the simulated clock cannot go back to {at.isoformat()}")
        self._now = at


class _Gateway:
    def __init__(
        self, meters: Sequence[SimulatedMeter], clock: SimulatedClock, stats: FleetStats
    ) -> None:
        self.meters = list(meters)
        self.by_id = {meter.meter_id: meter for meter in self.meters}
        self.clock = clock
        self.stats = stats
        self.link: GatewayLink | None = None
        # answers to commands on their way: the fleet lets them finish before it closes
        self.answering: set[asyncio.Future[None]] = set()

    def step(self, until: datetime) -> list[Uplink]:
        messages: list[Uplink] = []
        for meter in self.meters:
            previous_id = meter.meter_id
            messages.extend(meter.step(until))
            if meter.meter_id != previous_id:  # replaced: commands go to the new id
                del self.by_id[previous_id]
                self.by_id[meter.meter_id] = meter
        return messages

    async def publish(self, messages: Sequence[Uplink]) -> None:
        if not messages:
            return
        assert self.link is not None, "the fleet is not connected (use `async with`)"
        encoded = [encode_uplink(message) for message in messages]
        await self.link.publish(encoded)
        for topic_name, _ in encoded:
            self.stats.count(topic_name)

    async def listen(self) -> None:
        assert self.link is not None
        async for topic_name, payload in self.link.commands():
            command = decode_command(topic_name, payload)
            if isinstance(command, Rejection):
                self.stats.refused_commands += 1
                self.stats.refusals = [*self.stats.refusals[-9:], command]
                continue
            meter = self.by_id.get(command.meter_id)
            if meter is None:
                self.stats.not_ours += 1
                continue
            self.stats.commands += 1
            # Shielded: a run that ends now must not cut an answer between its PUBACK and
            # its count (the head-end would store one more message than the fleet sent).
            answer = asyncio.ensure_future(self.publish(meter.receive(command, self.clock.now())))
            self.answering.add(answer)
            answer.add_done_callback(self.answering.discard)
            await asyncio.shield(answer)


class Fleet:
    """Meters of one DISCOM split into gateways; `async with` connects them."""

    def __init__(
        self,
        meters: Sequence[SimulatedMeter],
        *,
        links: LinkOpener,
        gateway_size: int = GATEWAY_SIZE,
        client_prefix: str = "prepaidgrid-sim",
    ) -> None:
        if not meters:
            raise ValueError("a fleet needs at least one meter")
        discoms = {meter.discom for meter in meters}
        starts = {meter.now for meter in meters}
        if len(discoms) != 1 or len(starts) != 1:
            raise ValueError("a fleet's meters share one DISCOM and one start instant")
        if gateway_size < 1:
            raise ValueError(f"gateway_size must be at least 1, got {gateway_size}")
        self.discom = discoms.pop()
        self.clock = SimulatedClock(starts.pop())
        self.stats = FleetStats()
        self._links = links
        self._client_prefix = client_prefix
        self._gateways = [
            _Gateway(meters[i : i + gateway_size], self.clock, self.stats)
            for i in range(0, len(meters), gateway_size)
        ]
        self._stack: AsyncExitStack | None = None
        self._listeners: list[asyncio.Task[None]] = []

    @property
    def now(self) -> datetime:
        return self.clock.now()

    @property
    def gateways(self) -> int:
        return len(self._gateways)

    @property
    def meters(self) -> list[SimulatedMeter]:
        return [meter for gateway in self._gateways for meter in gateway.meters]

    def meter(self, meter_id: str) -> SimulatedMeter:
        """The meter now answering to `meter_id` (after a replacement, the new id)."""
        for gateway in self._gateways:
            if meter_id in gateway.by_id:
                return gateway.by_id[meter_id]
        raise KeyError(meter_id)

    async def __aenter__(self) -> Fleet:
        stack = AsyncExitStack()
        try:
            command_filter = topic(self.discom, "+", Channel.COMMANDS)
            for index, gateway in enumerate(self._gateways):
                client_id = f"{self._client_prefix}-{self.discom}-gw{index:03d}"
                gateway.link = await stack.enter_async_context(
                    self._links(client_id, command_filter)
                )
            self._listeners = [
                asyncio.create_task(gateway.listen(), name=f"gateway-{index}-commands")
                for index, gateway in enumerate(self._gateways)
            ]
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for task in self._listeners:
            task.cancel()
        await asyncio.gather(*self._listeners, return_exceptions=True)
        self._listeners = []
        answering = [answer for gateway in self._gateways for answer in gateway.answering]
        await asyncio.gather(*answering, return_exceptions=True)
        if self._stack is not None:
            stack, self._stack = self._stack, None
            await stack.aclose()
        for gateway in self._gateways:
            gateway.link = None

    async def run(
        self,
        until: datetime,
        *,
        tick: timedelta = DEFAULT_TICK,
        speed: float | None = None,
        on_step: StepHook | None = None,
    ) -> FleetStats:
        """Advance to `until` a tick at a time; `speed` is simulated seconds per real second
        (None: as fast as possible). The hook runs after each tick's messages are out."""
        until = require_utc(until)
        if tick <= timedelta(0):
            raise ValueError("tick must be positive")
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive")
        loop = asyncio.get_running_loop()
        sim_start, wall_start = self.now, loop.time()
        while self.now < until:
            self._check_listeners()
            self.clock.set(min(self.now + tick, until))
            batches = [gateway.step(self.now) for gateway in self._gateways]
            await asyncio.gather(
                *(gw.publish(batch) for gw, batch in zip(self._gateways, batches, strict=True))
            )
            self.stats.ticks += 1
            if on_step is not None:
                result = on_step(self.now)
                if inspect.isawaitable(result):
                    await result
            if speed is not None:
                due = wall_start + (self.now - sim_start).total_seconds() / speed
                await asyncio.sleep(max(0.0, due - loop.time()))
        self._check_listeners()
        return self.stats

    def _check_listeners(self) -> None:
        """A gateway that lost its connection fails the run instead of going quiet."""
        for task in self._listeners:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise RuntimeError(f"{task.get_name()} stopped") from task.exception()
