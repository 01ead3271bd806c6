"""A simulated meter: energy, relay, blocks and snapshots, drop-outs, commands, replacement."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from prepaidgrid.domain.meter_protocol import (
    Ack,
    AckStatus,
    Command,
    CommandAction,
    Event,
    EventKind,
    Reading,
    ReadingKind,
    Rejection,
    Uplink,
    decode_uplink,
    encode_uplink,
)
from prepaidgrid.domain.units import IST
from prepaidgrid.simulator.load_profiles import DS_II, CoolingTier, HouseholdProfile
from prepaidgrid.simulator.meters import MeterSpec, Replacement, SimulatedMeter

MONDAY = datetime(2021, 9, 6, tzinfo=IST)
SPEC = MeterSpec(
    discom="SBPDCL",
    meter_id="SM10000001",
    household=HouseholdProfile(DS_II, 4, CoolingTier.COOLER),
    seed="PTN-TEST-00001",
    initial_import_wh=1_000_000,
)


def _meter(**changes: Any) -> SimulatedMeter:
    return SimulatedMeter(replace(SPEC, **changes), MONDAY)


def _command(action: CommandAction, at: datetime, command_id: str = "cmd-1") -> Command:
    return Command("SBPDCL", "SM10000001", command_id, action, at, at + timedelta(hours=6))


def _run(meter: SimulatedMeter, hours: float, tick_minutes: int = 15) -> list[Uplink]:
    messages: list[Uplink] = []
    end = meter.now + timedelta(hours=hours)
    while meter.now < end:
        messages.extend(meter.step(min(meter.now + timedelta(minutes=tick_minutes), end)))
    return messages


def _readings(messages: list[Uplink], kind: ReadingKind) -> list[Reading]:
    return [m for m in messages if isinstance(m, Reading) and m.kind is kind]


def test_a_15_minute_meter_sends_one_block_per_reading_and_loses_no_energy() -> None:
    meter = _meter()

    messages = _run(meter, 24)

    blocks = [block for r in _readings(messages, ReadingKind.BLOCK_LOAD) for block in r.blocks]
    assert len(blocks) == 96
    assert {block.minutes for block in blocks} == {15}
    assert blocks[0].start == MONDAY
    assert sum(block.import_wh for block in blocks) == meter.import_wh - 1_000_000
    assert 3_000 < meter.import_wh - 1_000_000 < 12_000


def test_a_30_minute_meter_and_an_hourly_batch() -> None:
    half_hourly = _meter(block_minutes=30)
    batched = _meter(blocks_per_upload=4)

    half_hourly_readings = _readings(_run(half_hourly, 6), ReadingKind.BLOCK_LOAD)
    batched_readings = _readings(_run(batched, 6), ReadingKind.BLOCK_LOAD)

    assert len(half_hourly_readings) == 12
    assert all(r.blocks[0].minutes == 30 for r in half_hourly_readings)
    assert len(batched_readings) == 6
    assert all(
        len(r.blocks) == 4 and r.read_at == r.blocks[-1].start + timedelta(minutes=15)
        for r in batched_readings
    )


def test_the_daily_snapshot_at_ist_midnight_goes_before_that_instant_s_block_reading() -> None:
    meter = _meter()

    messages = _run(meter, 24)

    midnight = MONDAY + timedelta(days=1)
    at_midnight = [m for m in messages if isinstance(m, Reading) and m.read_at == midnight]
    assert [r.kind for r in at_midnight] == [ReadingKind.DAILY, ReadingKind.BLOCK_LOAD]
    daily = at_midnight[0]
    assert daily.import_wh == meter.import_wh
    assert daily.max_demand_w is not None
    assert daily.max_demand_w > 0
    assert daily.import_vah is not None
    assert daily.import_vah > daily.import_wh


def test_an_open_relay_means_no_consumption() -> None:
    meter = _meter()
    _run(meter, 10)

    answer = meter.receive(_command(CommandAction.DISCONNECT, meter.now), meter.now)
    before = meter.import_wh
    messages = _run(meter, 24)

    assert meter.relay_closed is False
    assert meter.import_wh == before
    blocks = [b for r in _readings(messages, ReadingKind.BLOCK_LOAD) for b in r.blocks]
    assert blocks
    assert all(block.import_wh == 0 for block in blocks)
    assert [type(m) for m in answer] == [Event, Ack]


def test_a_disconnect_in_the_middle_of_a_block_keeps_only_the_closed_share() -> None:
    meter = _meter()
    twin = _meter()
    _run(meter, 10)
    _run(twin, 10.25)
    full_block = twin.import_wh - meter.import_wh

    meter.receive(_command(CommandAction.DISCONNECT, meter.now), meter.now + timedelta(minutes=5))
    _run(meter, 1)

    assert meter.import_wh - (twin.import_wh - full_block) == full_block * 5 // 15


def test_disconnect_and_reconnect_are_acknowledged_with_the_relay_state() -> None:
    meter = _meter()
    _run(meter, 10)

    opened = meter.receive(_command(CommandAction.DISCONNECT, meter.now, "c-1"), meter.now)
    closed = meter.receive(_command(CommandAction.RECONNECT, meter.now, "c-2"), meter.now)
    _run(meter, 1)

    assert isinstance(opened[0], Event)
    assert opened[0].kind is EventKind.RELAY_OPENED
    assert isinstance(opened[1], Ack)
    assert (opened[1].status, opened[1].relay_closed) == (AckStatus.DONE, False)
    assert isinstance(closed[0], Event)
    assert closed[0].kind is EventKind.RELAY_CLOSED
    assert isinstance(closed[1], Ack)
    assert closed[1].relay_closed is True
    assert meter.relay_closed is True


def test_a_repeated_command_is_acked_again_but_acted_on_once() -> None:
    meter = _meter()
    _run(meter, 10)
    disconnect = _command(CommandAction.DISCONNECT, meter.now, "cmd-dup")
    reconnect = _command(CommandAction.RECONNECT, meter.now, "cmd-r")

    first = meter.receive(disconnect, meter.now)
    meter.receive(reconnect, meter.now)
    repeat = meter.receive(disconnect, meter.now + timedelta(minutes=1))

    assert meter.relay_closed is True  # the resent disconnect did not open it again
    assert [type(m) for m in first] == [Event, Ack]
    assert [type(m) for m in repeat] == [Ack]
    assert isinstance(repeat[0], Ack)
    assert (repeat[0].command_id, repeat[0].status) == ("cmd-dup", AckStatus.DONE)
    assert repeat[0].relay_closed is True  # the current state, as the protocol asks
    assert repeat[0].msg_id != first[1].msg_id


def test_an_expired_command_is_acked_expired_and_not_acted_on() -> None:
    meter = _meter()
    _run(meter, 12)
    stale = Command(
        "SBPDCL",
        "SM10000001",
        "old",
        CommandAction.DISCONNECT,
        MONDAY,
        MONDAY + timedelta(hours=6),
    )

    answer = meter.receive(stale, meter.now)

    assert meter.relay_closed is True
    assert len(answer) == 1
    assert isinstance(answer[0], Ack)
    assert answer[0].status is AckStatus.EXPIRED


def test_read_now_answers_with_an_instant_reading_including_the_running_block() -> None:
    meter = _meter()
    _run(meter, 9)

    answer = meter.receive(
        _command(CommandAction.READ_NOW, meter.now), meter.now + timedelta(minutes=10)
    )

    reading, ack = answer
    assert isinstance(reading, Reading)
    assert reading.kind is ReadingKind.INSTANT
    assert reading.import_wh > meter.import_wh  # ten minutes of the 09:00 block
    assert reading.read_at == MONDAY + timedelta(hours=9, minutes=10)
    assert isinstance(ack, Ack)
    assert ack.status is AckStatus.DONE


def test_commands_for_another_meter_are_ignored() -> None:
    meter = _meter()

    other = Command("SBPDCL", "SM19999999", "x", CommandAction.DISCONNECT, MONDAY, MONDAY)

    assert meter.receive(other, MONDAY) == []
    assert meter.relay_closed is True


def test_an_offline_meter_buffers_and_then_sends_everything_in_order() -> None:
    down, up = MONDAY + timedelta(hours=2), MONDAY + timedelta(hours=5, minutes=10)
    meter = _meter(offline_windows=((down, up),))
    _run(meter, 2)

    while_down = _run(meter, 3)
    assert while_down == []
    assert meter.buffered == 13  # the 02:00 to 05:00 block readings

    flushed = _run(meter, 1)

    readings = _readings(flushed, ReadingKind.BLOCK_LOAD)
    assert [r.read_at for r in readings] == [down + timedelta(minutes=15 * n) for n in range(17)]
    assert [r.msg_id for r in readings] == sorted(r.msg_id for r in readings)
    assert readings[0].meter_time == MONDAY + timedelta(hours=5, minutes=15)  # sent then
    assert readings[-1].meter_time == readings[-1].read_at  # sent on time, online again
    assert meter.buffered == 0


def test_a_command_sent_while_offline_runs_when_the_meter_is_back() -> None:
    down, up = MONDAY + timedelta(hours=10), MONDAY + timedelta(hours=11)
    meter = _meter(offline_windows=((down, up),))
    _run(meter, 10)

    held = meter.receive(_command(CommandAction.DISCONNECT, meter.now), meter.now)
    assert held == []
    assert meter.relay_closed is True

    later = _run(meter, 1.5)

    assert meter.relay_closed is False
    acks = [m for m in later if isinstance(m, Ack)]
    assert len(acks) == 1
    assert acks[0].relay_closed is False


def test_the_clock_drifts_and_a_time_sync_puts_it_right() -> None:
    meter = _meter(drift_ppm=20.0)
    _run(meter, 48)

    drift_before = meter.clock_drift(meter.now)
    (ack,) = meter.receive(_command(CommandAction.TIME_SYNC, meter.now), meter.now)

    assert timedelta(seconds=3.4) < drift_before < timedelta(seconds=3.5)
    assert meter.clock_drift(meter.now) == timedelta(0)
    assert ack.meter_time == meter.now


def test_a_replaced_meter_hands_over_its_energy_without_loss() -> None:
    replacement = Replacement(timedelta(hours=11, minutes=40), "SM90000001")
    meter = _meter(replacement=replacement)
    twin = _meter()

    messages = _run(meter, 24)
    _run(twin, 24)

    replaced = [m for m in messages if isinstance(m, Event) and m.kind is EventKind.METER_REPLACED]
    assert len(replaced) == 1
    final_wh = replaced[0].final_import_wh
    assert final_wh is not None
    assert replaced[0].meter_id == "SM10000001"
    assert meter.meter_id == "SM90000001"
    assert final_wh + meter.import_wh == twin.import_wh
    index = messages.index(replaced[0])
    final_read = messages[index - 1]
    assert isinstance(final_read, Reading)
    assert final_read.import_wh == final_wh
    assert all(m.meter_id == "SM90000001" for m in messages[index + 1 :])
    assert all(m.meter_id == "SM10000001" for m in messages[:index])


def test_a_replaced_meter_ignores_commands_for_its_old_id() -> None:
    meter = _meter(replacement=Replacement(timedelta(hours=1), "SM90000001"))
    _run(meter, 2)

    assert meter.receive(_command(CommandAction.DISCONNECT, meter.now), meter.now) == []


def test_faults_happen_at_their_rates_and_reproducibly() -> None:
    first = _meter(tamper_per_block=0.05, dropout_per_block=0.02)
    again = _meter(tamper_per_block=0.05, dropout_per_block=0.02)

    events = [m for m in _run(first, 48) if isinstance(m, Event)]
    assert events == [m for m in _run(again, 48) if isinstance(m, Event)]
    assert 2 <= len(events) <= 20
    assert {e.kind for e in events} <= {EventKind.TAMPER, EventKind.COVER_OPEN}


def test_every_message_survives_the_protocol_codec() -> None:
    meter = _meter(
        drift_ppm=-15.0,
        tamper_per_block=0.05,
        replacement=Replacement(timedelta(hours=30), "SM90000001"),
    )
    messages = _run(meter, 36)
    messages += meter.receive(
        Command("SBPDCL", "SM90000001", "r", CommandAction.READ_NOW, meter.now, meter.now),
        meter.now,
    )

    decoded = [decode_uplink(*encode_uplink(message)) for message in messages]

    assert not [d for d in decoded if isinstance(d, Rejection)]
    assert decoded == messages
