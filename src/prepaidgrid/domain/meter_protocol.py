"""The meter protocol v1: MQTT topics and JSON payloads, decoded into typed messages.

CONTRACT (the head-end, the simulator and meter data depend on these names).
Topics: prepaidgrid/v1/{discom}/meters/{meter_id}/{readings|events|acks}  (meter -> platform)
        prepaidgrid/v1/{discom}/meters/{meter_id}/commands               (platform -> meter)
Energy in Wh, apparent energy in VAh, demand in W, instants timezone-aware (UTC after decoding).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

PROTOCOL_VERSION = 1
TOPIC_ROOT = "prepaidgrid/v1"
MAX_PAYLOAD_BYTES = 64 * 1024

# IS 15959 OBIS codes used in payloads (docs/reference/obis.md)
OBIS_KWH_IMPORT = "1.0.1.8.0.255"  # cumulative energy import, carried in Wh
OBIS_KVAH_IMPORT = "1.0.9.8.0.255"  # cumulative apparent energy import, in VAh
OBIS_MD_KW = "1.0.1.6.0.255"  # maximum demand, in W
OBIS_BLOCK_LOAD = "1.0.99.1.0.255"
OBIS_DAILY_LOAD = "1.0.99.2.0.255"
OBIS_DISCONNECT_CONTROL = "0.0.96.3.10.255"


class Channel(StrEnum):
    READINGS = "readings"
    EVENTS = "events"
    ACKS = "acks"
    COMMANDS = "commands"


class ReadingKind(StrEnum):
    BLOCK_LOAD = "block_load"  # 15/30-minute blocks
    DAILY = "daily"  # the midnight snapshot of the registers
    INSTANT = "instant"  # a read-now answer


class EventKind(StrEnum):
    RELAY_OPENED = "relay_opened"
    RELAY_CLOSED = "relay_closed"
    POWER_FAIL = "power_fail"
    POWER_RESTORE = "power_restore"
    TAMPER = "tamper"
    COVER_OPEN = "cover_open"
    METER_REPLACED = "meter_replaced"  # the old meter's final read precedes it


class CommandAction(StrEnum):
    DISCONNECT = "disconnect"
    RECONNECT = "reconnect"
    READ_NOW = "read_now"
    TIME_SYNC = "time_sync"


class AckStatus(StrEnum):
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"  # the meter received it after expires_at and did nothing


@dataclass(frozen=True, slots=True)
class Block:
    start: datetime  # UTC
    minutes: int  # 15 or 30
    import_wh: int


@dataclass(frozen=True, slots=True)
class Reading:
    discom: str
    meter_id: str
    msg_id: str
    meter_time: datetime  # the meter's clock when it sent this (UTC)
    kind: ReadingKind
    read_at: datetime  # the instant the registers describe (UTC)
    import_wh: int  # cumulative kWh import register, in Wh
    import_vah: int | None = None
    max_demand_w: int | None = None
    blocks: tuple[Block, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Event:
    discom: str
    meter_id: str
    msg_id: str
    meter_time: datetime
    kind: EventKind
    occurred_at: datetime
    vendor_code: int | None = None
    final_import_wh: int | None = None  # with METER_REPLACED: the old meter's last register


@dataclass(frozen=True, slots=True)
class Ack:
    discom: str
    meter_id: str
    msg_id: str
    meter_time: datetime
    command_id: str
    status: AckStatus
    relay_closed: bool | None = None  # IC 70 control_state after the command (1 closed)


@dataclass(frozen=True, slots=True)
class Command:
    discom: str
    meter_id: str
    command_id: str
    action: CommandAction
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a message was refused; it never reaches the ledger."""

    reason: str  # a stable code: "oversized", "not_json", "bad_topic", "missing_field", ...
    detail: str  # one line for the operator's log
    topic: str = ""


Uplink = Reading | Event | Ack


def topic(discom: str, meter_id: str, channel: Channel) -> str:
    return f"{TOPIC_ROOT}/{discom}/meters/{meter_id}/{channel.value}"


def uplink_subscription(shared_group: str | None = None) -> str:
    """All meters' uplinks; with a group, an MQTT shared subscription that N workers split."""
    pattern = f"{TOPIC_ROOT}/+/meters/+/+"
    return f"$share/{shared_group}/{pattern}" if shared_group else pattern


def decode_uplink(topic_name: str, payload: bytes) -> Uplink | Rejection:
    """Decode and validate one uplink message; never raises (helper fills in)."""
    raise NotImplementedError


def encode_uplink(message: Uplink) -> tuple[str, bytes]:
    """Topic and JSON payload of an uplink message (the simulator's side)."""
    raise NotImplementedError


def encode_command(command: Command) -> tuple[str, bytes]:
    raise NotImplementedError


def decode_command(topic_name: str, payload: bytes) -> Command | Rejection:
    """The meter's side of a command (the simulator uses it)."""
    raise NotImplementedError
