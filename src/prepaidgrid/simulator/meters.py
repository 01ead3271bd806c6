"""One simulated smart prepaid meter: registers, relay, clock drift, drop-outs, commands.

The meter is pure and deterministic: time only moves when `step(until)` or
`receive(command, at)` says so, and every random draw comes from generators seeded by its
spec. It speaks the v1 protocol's messages (`prepaidgrid.domain.meter_protocol`); the
fleet encodes and publishes them.

Energy is integrated per 15-minute profile block: a block's Wh (from `load_profiles`) are
spread evenly over it and counted only while the relay is closed, so a disconnect at 10:07
leaves 7/15 of that block. Registers are cumulative since the meter was made.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from prepaidgrid.domain.meter_protocol import (
    Ack,
    AckStatus,
    Block,
    Command,
    CommandAction,
    Event,
    EventKind,
    Reading,
    ReadingKind,
    Uplink,
)
from prepaidgrid.domain.units import IST, ist_day, require_utc
from prepaidgrid.simulator.load_profiles import BLOCKS_PER_HOUR, HouseholdProfile, household_blocks

PROFILE_BLOCK = timedelta(minutes=15)
_PROFILE_US = 15 * 60 * 1_000_000
_MICROSECOND = timedelta(microseconds=1)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # IST is UTC+05:30: the same 15-minute boundaries


@dataclass(frozen=True, slots=True)
class Replacement:
    """The field team swaps the meter `after` the meter's start; `new_meter_id` continues."""

    after: timedelta
    new_meter_id: str


@dataclass(frozen=True, slots=True)
class MeterSpec:
    """Everything that makes one meter behave as it does; the scenario decides it."""

    discom: str
    meter_id: str
    household: HouseholdProfile
    seed: str  # seeds the load and the meter's random faults, separately
    block_minutes: int = 15  # the capture period: 15 or 30
    blocks_per_upload: int = 1  # 4: an hourly batch of 15-minute blocks
    initial_import_wh: int = 0  # meters are installed with energy on the register
    drift_ppm: float = 0.0  # clock error; 11.6 ppm is about one second a day
    power_factor_permille: int = 950  # VAh = Wh / power factor
    dropout_per_block: float = 0.0  # chance that the network drops at a block's end
    tamper_per_block: float = 0.0  # chance of a tamper or cover-open event per block
    offline_windows: tuple[tuple[datetime, datetime], ...] = ()  # [start, end), UTC
    replacement: Replacement | None = None

    def __post_init__(self) -> None:
        if self.block_minutes not in (15, 30):
            raise ValueError(f"block_minutes must be 15 or 30, got {self.block_minutes}")
        if not 1 <= self.blocks_per_upload <= 96:
            raise ValueError(f"blocks_per_upload must be 1-96, got {self.blocks_per_upload}")


@dataclass(frozen=True, slots=True)
class _Outgoing:
    message: Uplink
    made_offline: bool  # its meter_time is re-stamped when it is finally sent


class SimulatedMeter:
    """A meter advanced in time; `step` and `receive` return the uplinks it sends now."""

    def __init__(self, spec: MeterSpec, started_at: datetime) -> None:
        self.spec = spec
        self.discom = spec.discom
        self.meter_id = spec.meter_id
        self.relay_closed = True
        self.import_wh = spec.initial_import_wh
        self.max_demand_w = 0  # this month's highest block demand; reset after the 1st's snapshot
        self._now = require_utc(started_at)
        self._load_rng = random.Random(f"{spec.seed}:load")
        self._fault_rng = random.Random(f"{spec.seed}:faults")
        self._day: date | None = None
        self._day_blocks: list[int] = []
        self._closed_us = 0  # microseconds the relay was closed in the current profile block
        self._credited_wh = 0  # of the current profile block, already on a replaced register
        self._capture_wh = 0  # the current capture block's Wh so far
        self._captured: list[Block] = []  # complete capture blocks not yet uploaded
        self._installed_wh = spec.initial_import_wh  # the register when VAh was last known
        self._installed_vah = spec.initial_import_wh * 1000 // spec.power_factor_permille
        self._synced_at = self._now
        self._offline_until: datetime | None = None
        self._outbox: list[_Outgoing] = []
        self._held: list[Command] = []  # commands that arrive while the network is down
        self._answered: dict[str, AckStatus] = {}
        self._counters: dict[str, int] = {}
        self._replace_at = (
            self._now + spec.replacement.after if spec.replacement is not None else None
        )

    @property
    def now(self) -> datetime:
        return self._now

    @property
    def buffered(self) -> int:
        """Messages waiting for the network."""
        return len(self._outbox)

    def clock_drift(self, at: datetime) -> timedelta:
        """How far the meter's clock is ahead of true time at `at` (negative: behind)."""
        seconds = (at - self._synced_at).total_seconds() * self.spec.drift_ppm / 1e6
        return timedelta(seconds=seconds)

    def meter_clock(self, at: datetime) -> datetime:
        return at + self.clock_drift(at)

    def is_online(self, at: datetime) -> bool:
        if self._offline_until is not None and at < self._offline_until:
            return False
        return not any(start <= at < end for start, end in self.spec.offline_windows)

    def register_wh(self) -> int:
        """The import register now, with the running profile block's share so far."""
        return self.import_wh + self._partial_wh() - self._credited_wh

    # -- time ----------------------------------------------------------------------------------

    def step(self, until: datetime) -> list[Uplink]:
        """Run the meter to `until`; return what it sends then (nothing while offline)."""
        self._advance(require_utc(until))
        return self._flush()

    def _advance(self, until: datetime) -> None:
        while self._now < until:
            boundary = self._next_boundary(self._now)
            end = min(boundary, until)
            replace_at = self._replace_at
            if replace_at is not None and self._now < replace_at <= end:
                end = replace_at
            was_online = self.is_online(self._now)
            if self.relay_closed:
                self._closed_us += (end - self._now) // _MICROSECOND
            self._now = end
            if end == boundary:
                self._close_profile_block(boundary)
            if end == replace_at:
                self._replace_meter()
            if not was_online and self.is_online(end):
                self._back_online()

    @staticmethod
    def _next_boundary(at: datetime) -> datetime:
        elapsed = (at - _EPOCH) // PROFILE_BLOCK
        return _EPOCH + (elapsed + 1) * PROFILE_BLOCK

    def _profile_wh(self, block_start: datetime) -> int:
        day = ist_day(block_start)
        if day != self._day:
            self._day = day
            self._day_blocks = household_blocks(self.spec.household, day, self._load_rng)
        local = block_start.astimezone(IST)
        return self._day_blocks[local.hour * BLOCKS_PER_HOUR + local.minute // 15]

    def _partial_wh(self) -> int:
        if self._closed_us == 0:
            return 0
        start = self._next_boundary(self._now - _MICROSECOND) - PROFILE_BLOCK
        return self._profile_wh(start) * self._closed_us // _PROFILE_US

    def _close_profile_block(self, boundary: datetime) -> None:
        energy_wh = self._partial_wh() - self._credited_wh
        self._closed_us = self._credited_wh = 0
        self.import_wh += energy_wh
        self._capture_wh += energy_wh
        minutes = self.spec.block_minutes
        local = boundary.astimezone(IST)
        if local.minute % minutes == 0:
            self._close_capture_block(boundary, minutes)
        if local.hour == 0 and local.minute == 0:
            self._send_daily(boundary, is_month_start=local.day == 1)
        if self._fault_rng.random() < self.spec.tamper_per_block:
            kind = EventKind.COVER_OPEN if self._fault_rng.random() < 0.5 else EventKind.TAMPER
            self._send_event(kind, boundary)
        if self._fault_rng.random() < self.spec.dropout_per_block and self._offline_until is None:
            self._offline_until = boundary + timedelta(minutes=self._fault_rng.randint(10, 360))

    def _close_capture_block(self, boundary: datetime, minutes: int) -> None:
        demand_w = self._capture_wh * 60 // minutes
        self.max_demand_w = max(self.max_demand_w, demand_w)
        start = boundary - timedelta(minutes=minutes)
        self._captured.append(Block(start, minutes, self._capture_wh))
        self._capture_wh = 0
        if len(self._captured) >= self.spec.blocks_per_upload:
            self._send_reading(ReadingKind.BLOCK_LOAD, boundary, tuple(self._captured))
            self._captured = []

    def _send_daily(self, midnight: datetime, *, is_month_start: bool) -> None:
        # The daily snapshot goes out before the block-load reading of the same instant: the
        # platform keeps one register read per (meter, read_at), and should keep the "daily".
        index = len(self._outbox)
        while index and _is_block_load_at(self._outbox[index - 1].message, midnight):
            index -= 1
        self._send_reading(ReadingKind.DAILY, midnight, (), position=index)
        if is_month_start:
            self.max_demand_w = 0

    def _back_online(self) -> None:
        self._offline_until = None
        held, self._held = self._held, []
        for command in held:
            self._execute(command, self._now)

    # -- commands ------------------------------------------------------------------------------

    def receive(self, command: Command, at: datetime) -> list[Uplink]:
        """Take a command at `at` (not before the meter's own time); return what it sends.

        Commands for another meter (a replaced one) are ignored. While the network is down
        the command waits, as it would in the broker's persistent session.
        """
        if command.meter_id != self.meter_id or command.discom != self.discom:
            return []
        self._advance(require_utc(at))
        if self.is_online(self._now):
            self._execute(command, self._now)
        else:
            self._held.append(command)
        return self._flush()

    def _execute(self, command: Command, at: datetime) -> None:
        answered = self._answered.get(command.command_id)
        if answered is not None:  # a resend: say it again, act once
            self._send_ack(command, answered)
            return
        if self.meter_clock(at) > command.expires_at:
            status = AckStatus.EXPIRED
        else:
            status = AckStatus.DONE
            self._act(command, at)
        self._answered[command.command_id] = status
        self._send_ack(command, status)

    def _act(self, command: Command, at: datetime) -> None:
        action = command.action
        if action is CommandAction.DISCONNECT and self.relay_closed:
            self.relay_closed = False
            self._send_event(EventKind.RELAY_OPENED, at)
        elif action is CommandAction.RECONNECT and not self.relay_closed:
            self.relay_closed = True
            self._send_event(EventKind.RELAY_CLOSED, at)
        elif action is CommandAction.READ_NOW:
            self._send_reading(
                ReadingKind.INSTANT, self.meter_clock(at), (), import_wh=self.register_wh()
            )
        elif action is CommandAction.TIME_SYNC:
            self._synced_at = at

    # -- replacement ---------------------------------------------------------------------------

    def _replace_meter(self) -> None:
        """The old meter's final read and METER_REPLACED; then a new meter, register at 0.

        The final read carries any captured blocks not yet uploaded, so that no block of
        the old meter is lost and no two readings share the instant.
        """
        assert self.spec.replacement is not None
        at = self._now
        final_wh = self.register_wh()
        self._send_reading(ReadingKind.INSTANT, at, tuple(self._captured), import_wh=final_wh)
        self._send_event(EventKind.METER_REPLACED, at, final_import_wh=final_wh)
        self._credited_wh = self._partial_wh()  # the rest of this block is the new meter's
        self.meter_id = self.spec.replacement.new_meter_id
        self.import_wh = self.max_demand_w = self._capture_wh = 0
        self._installed_wh = self._installed_vah = 0
        self._captured = []
        self._synced_at = at  # a new meter leaves the factory on time
        self._counters = {}
        self._answered = {}
        self._replace_at = None

    # -- messages ------------------------------------------------------------------------------

    def _msg_id(self, tag: str) -> str:
        count = self._counters.get(tag, 0) + 1
        self._counters[tag] = count
        return f"{self.meter_id}-{tag}-{count:06d}"

    def _send(self, message: Uplink, position: int | None = None) -> None:
        outgoing = _Outgoing(message, made_offline=not self.is_online(self._now))
        if position is None:
            self._outbox.append(outgoing)
        else:
            self._outbox.insert(position, outgoing)

    def _send_reading(
        self,
        kind: ReadingKind,
        read_at: datetime,
        blocks: tuple[Block, ...],
        *,
        import_wh: int | None = None,
        position: int | None = None,
    ) -> None:
        register_wh = self.import_wh if import_wh is None else import_wh
        used_wh = register_wh - self._installed_wh
        vah = self._installed_vah + used_wh * 1000 // self.spec.power_factor_permille
        tag = {ReadingKind.BLOCK_LOAD: "r", ReadingKind.DAILY: "d", ReadingKind.INSTANT: "i"}
        reading = Reading(
            self.discom,
            self.meter_id,
            self._msg_id(tag[kind]),
            self.meter_clock(self._now),
            kind,
            read_at,
            register_wh,
            import_vah=vah,
            max_demand_w=self.max_demand_w,
            blocks=blocks,
        )
        self._send(reading, position)

    def _send_event(
        self, kind: EventKind, at: datetime, *, final_import_wh: int | None = None
    ) -> None:
        event = Event(
            self.discom,
            self.meter_id,
            self._msg_id("e"),
            self.meter_clock(self._now),
            kind,
            self.meter_clock(at),
            final_import_wh=final_import_wh,
        )
        self._send(event)

    def _send_ack(self, command: Command, status: AckStatus) -> None:
        ack = Ack(
            self.discom,
            self.meter_id,
            self._msg_id("a"),
            self.meter_clock(self._now),
            command.command_id,
            status,
            relay_closed=self.relay_closed,
        )
        self._send(ack)

    def _flush(self) -> list[Uplink]:
        """Everything waiting, in the order it was made, if the network is up now."""
        if not self._outbox or not self.is_online(self._now):
            return []
        sent_at = self.meter_clock(self._now)
        messages = [
            replace(item.message, meter_time=sent_at) if item.made_offline else item.message
            for item in self._outbox
        ]
        self._outbox = []
        return messages


def _is_block_load_at(message: Uplink, at: datetime) -> bool:
    return (
        isinstance(message, Reading)
        and message.kind is ReadingKind.BLOCK_LOAD
        and message.read_at == at
    )
