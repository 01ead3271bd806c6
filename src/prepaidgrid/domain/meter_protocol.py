"""The meter protocol v1: MQTT topics and JSON payloads, decoded into typed messages.

CONTRACT (the head-end, the simulator and meter data depend on these names).
Topics: prepaidgrid/v1/{discom}/meters/{meter_id}/{readings|events|acks}  (meter -> platform)
        prepaidgrid/v1/{discom}/meters/{meter_id}/commands               (platform -> meter)
Energy in Wh, apparent energy in VAh, demand in W, instants timezone-aware (UTC after decoding).
The decoders never raise: a refused message is a Rejection with a RejectionReason code.
Specification and examples: docs/meter-protocol.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TypeVar

from prepaidgrid.domain.units import require_utc

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

    reason: str  # a RejectionReason value: "oversized", "not_json", "bad_topic", ...
    detail: str  # one line for the operator's log
    topic: str = ""


Uplink = Reading | Event | Ack
_E = TypeVar("_E")


def topic(discom: str, meter_id: str, channel: Channel) -> str:
    return f"{TOPIC_ROOT}/{discom}/meters/{meter_id}/{channel.value}"


def uplink_subscriptions(shared_group: str | None = None) -> tuple[str, ...]:
    """All meters' uplinks, one filter per uplink channel; with a group, MQTT shared
    subscriptions that N workers split.

    Not one `+/+` filter: that would also match the commands channel, so the head-end would
    receive (and reject) every command it publishes itself.
    """
    prefix = f"$share/{shared_group}/" if shared_group else ""
    return tuple(
        f"{prefix}{TOPIC_ROOT}/+/meters/+/{channel.value}"
        for channel in (Channel.READINGS, Channel.EVENTS, Channel.ACKS)
    )


# -- decoding ---------------------------------------------------------------------------------
# One json.loads per message, then isinstance/type checks and dict look-ups per field; the only
# regex is the precompiled topic pattern. Timestamps go through the C datetime.fromisoformat.

MAX_ID_CHARS = 64  # msg_id and command_id: fits meter_messages.msg_id (String(64))
MAX_BLOCKS = 200  # about two days of 15-minute blocks in one message
BLOCK_MINUTES = (15, 30)
MAX_INT64 = 2**63 - 1  # cumulative registers are BIGINT columns
MAX_INT32 = 2**31 - 1  # demand, block energy and vendor codes are INTEGER columns


class RejectionReason(StrEnum):
    """The stable codes of Rejection.reason (docs/meter-protocol.md explains each)."""

    OVERSIZED = "oversized"
    BAD_TOPIC = "bad_topic"
    NOT_JSON = "not_json"
    NOT_AN_OBJECT = "not_an_object"
    UNSUPPORTED_VERSION = "unsupported_version"
    MISSING_FIELD = "missing_field"
    BAD_TYPE = "bad_type"
    BAD_VALUE = "bad_value"
    BAD_TIMESTAMP = "bad_timestamp"
    METER_MISMATCH = "meter_mismatch"
    CODEC_ERROR = "codec_error"  # a bug in this module, never a meter's fault


_NAME = r"[A-Za-z0-9_-]{1,40}"
_TOPIC = re.compile(
    rf"{re.escape(TOPIC_ROOT)}/({_NAME})/meters/({_NAME})/(readings|events|acks|commands)"
)
_CHANNELS = {channel.value: channel for channel in Channel}
_READING_KINDS = {kind.value: kind for kind in ReadingKind}
_EVENT_KINDS = {kind.value: kind for kind in EventKind}
_ACK_STATUSES = {status.value: status for status in AckStatus}
_ACTIONS = {action.value: action for action in CommandAction}
_RELAY_METHODS = {CommandAction.DISCONNECT: 1, CommandAction.RECONNECT: 2}  # IC 70 methods
_JSON_KINDS = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
_JSON_KINDS |= {int: "an integer", float: "a number", type(None): "null"}


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)  # one, not one per json.loads


class _Refused(Exception):
    """Raised inside the decoder only; its detail always begins with the field's name."""

    def __init__(self, reason: RejectionReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail

    def within(self, parent: str) -> _Refused:
        return _Refused(self.reason, f"{parent}.{self.detail}")


def _show(value: object, limit: int = 40) -> str:
    """A short, ASCII-only, single-line picture of a value for a rejection's detail."""
    if isinstance(value, str):
        return ascii(value[:limit]) + ("..." if len(value) > limit else "")
    if isinstance(value, (bool, float)) or (isinstance(value, int) and abs(value) < 10**30):
        return f"{_JSON_KINDS[type(value)]} ({value!r})"
    return _JSON_KINDS.get(type(value), type(value).__name__)


def _missing(key: str, why: str = "") -> _Refused:
    return _Refused(RejectionReason.MISSING_FIELD, f"{key} is missing{why}")


def _wrong_type(key: str, expected: str, value: object) -> _Refused:
    return _Refused(RejectionReason.BAD_TYPE, f"{key} must be {expected}, got {_show(value)}")


def _identifier(obj: dict[str, object], key: str) -> str:
    value = obj.get(key)
    if value is None:
        raise _missing(key)
    if type(value) is not str:
        raise _wrong_type(key, "a string", value)
    if not (0 < len(value) <= MAX_ID_CHARS and value.isascii() and value.isprintable()) or (
        " " in value
    ):
        raise _Refused(
            RejectionReason.BAD_VALUE,
            f"{key} must be 1-{MAX_ID_CHARS} printable ASCII characters without spaces,"
            f" got {_show(value)}",
        )
    return value


def _count(obj: dict[str, object], key: str, ceiling: int) -> int:
    """A JSON integer in [0, ceiling]; `type() is int` refuses bools and floats (even 5.0)."""
    value = obj.get(key)
    if type(value) is int and 0 <= value <= ceiling:
        return value
    raise _missing(key) if value is None else _not_a_count(key, value, ceiling)


def _optional_count(obj: dict[str, object], key: str, ceiling: int) -> int | None:
    value = obj.get(key)
    if value is None or (type(value) is int and 0 <= value <= ceiling):
        return value
    raise _not_a_count(key, value, ceiling)


def _not_a_count(key: str, value: object, ceiling: int) -> _Refused:
    if type(value) is not int:
        return _wrong_type(key, "an integer", value)
    return _Refused(
        RejectionReason.BAD_VALUE, f"{key} must be between 0 and {ceiling}, got {_show(value)}"
    )


def _instant(obj: dict[str, object], key: str) -> datetime:
    """ISO 8601 with an explicit offset ("Z" or "+05:30"), returned in UTC."""
    value = obj.get(key)
    if value is None:
        raise _missing(key)
    if type(value) is not str:
        raise _wrong_type(key, "an ISO 8601 string", value)
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise _Refused(
                RejectionReason.BAD_TIMESTAMP,
                f"{key} has no UTC offset (add Z or +05:30), got {_show(value)}",
            )
        return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _Refused(
            RejectionReason.BAD_TIMESTAMP, f"{key} is not an ISO 8601 instant, got {_show(value)}"
        ) from None


def _member(obj: dict[str, object], key: str, members: Mapping[str, _E]) -> _E:
    value = obj.get(key)
    if value is None:
        raise _missing(key)
    if type(value) is not str:
        raise _wrong_type(key, "a string", value)
    try:
        return members[value]
    except KeyError:
        raise _Refused(
            RejectionReason.BAD_VALUE,
            f"{key} must be one of {', '.join(members)}, got {_show(value)}",
        ) from None


def _route(topic_name: object) -> tuple[str, str, Channel]:
    match = _TOPIC.fullmatch(topic_name) if isinstance(topic_name, str) else None
    if match is None:
        raise _Refused(
            RejectionReason.BAD_TOPIC,
            f"topic must be {TOPIC_ROOT}/{{discom}}/meters/{{meter_id}}/{{channel}}"
            f" with names of 1-40 [A-Za-z0-9_-], got {_show(topic_name, 120)}",
        )
    discom, meter_id, channel = match.groups()
    return discom, meter_id, _CHANNELS[channel]


def _check_size(payload: bytes) -> None:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise _Refused(
            RejectionReason.OVERSIZED,
            f"payload is {len(payload)} bytes; the limit is {MAX_PAYLOAD_BYTES}",
        )


def _document(payload: bytes, meter_id: str) -> dict[str, object]:
    """The payload as a v1 JSON object about `meter_id`: UTF-8, JSON, an object, v, meter_id."""
    try:
        document = _DECODER.decode(str(payload, "utf-8"))
    except UnicodeDecodeError as error:
        raise _Refused(
            RejectionReason.NOT_JSON, f"payload is not UTF-8 (bad byte at {error.start})"
        ) from None
    except (ValueError, RecursionError) as error:
        problem = "nested too deeply" if isinstance(error, RecursionError) else str(error)
        raise _Refused(RejectionReason.NOT_JSON, f"payload is not JSON: {problem}") from None
    if type(document) is not dict:
        raise _Refused(
            RejectionReason.NOT_AN_OBJECT, f"payload must be a JSON object, got {_show(document)}"
        )
    version = document.get("v")
    if version is None:
        raise _missing("v")
    if type(version) is not int:
        raise _wrong_type("v", "an integer", version)
    if version != PROTOCOL_VERSION:
        raise _Refused(
            RejectionReason.UNSUPPORTED_VERSION,
            f"v must be {PROTOCOL_VERSION}, got {_show(version)}",
        )
    claimed = document.get("meter_id")
    if claimed is not None and claimed != meter_id:
        if type(claimed) is not str:
            raise _wrong_type("meter_id", "a string", claimed)
        raise _Refused(
            RejectionReason.METER_MISMATCH,
            f"meter_id {_show(claimed)} differs from the topic's {meter_id!r}",
        )
    return document


def _blocks(raw: object) -> tuple[Block, ...]:
    if raw is None:
        return ()
    if type(raw) is not list:
        raise _wrong_type("blocks", "an array", raw)
    if len(raw) > MAX_BLOCKS:
        raise _Refused(
            RejectionReason.BAD_VALUE,
            f"blocks has {len(raw)} entries; at most {MAX_BLOCKS} fit in one message",
        )
    blocks = []
    for index, item in enumerate(raw):
        if type(item) is not dict:
            raise _wrong_type(f"blocks[{index}]", "an object", item)
        try:
            start = _instant(item, "start")
            minutes = _count(item, "minutes", MAX_INT32)
            if minutes not in BLOCK_MINUTES:
                raise _Refused(
                    RejectionReason.BAD_VALUE, f"minutes must be 15 or 30, got {minutes}"
                )
            blocks.append(Block(start, minutes, _count(item, "import_wh", MAX_INT32)))
        except _Refused as refused:
            raise refused.within(f"blocks[{index}]") from None
    return tuple(blocks)


def _reading(doc: dict[str, object], head: _Head) -> Reading:
    kind = _member(doc, "kind", _READING_KINDS)
    read_at = _instant(doc, "read_at")
    registers = doc.get("registers")
    if registers is None:
        raise _missing("registers")
    if type(registers) is not dict:
        raise _wrong_type("registers", "an object of OBIS code to integer", registers)
    try:
        import_wh = _count(registers, OBIS_KWH_IMPORT, MAX_INT64)
        import_vah = _optional_count(registers, OBIS_KVAH_IMPORT, MAX_INT64)
        max_demand_w = _optional_count(registers, OBIS_MD_KW, MAX_INT32)
    except _Refused as refused:
        raise refused.within("registers") from None
    blocks = _blocks(doc.get("blocks"))
    return Reading(*head, kind, read_at, import_wh, import_vah, max_demand_w, blocks)


def _event(doc: dict[str, object], head: _Head) -> Event:
    kind = _member(doc, "event", _EVENT_KINDS)
    occurred_at = _instant(doc, "occurred_at")
    vendor_code = _optional_count(doc, "vendor_code", MAX_INT32)
    final_import_wh = _optional_count(doc, "final_import_wh", MAX_INT64)
    if final_import_wh is None and kind is EventKind.METER_REPLACED:
        raise _missing("final_import_wh", " (required with meter_replaced)")
    return Event(*head, kind, occurred_at, vendor_code, final_import_wh)


def _ack(doc: dict[str, object], head: _Head) -> Ack:
    command_id = _identifier(doc, "command_id")
    status = _member(doc, "status", _ACK_STATUSES)
    state = doc.get("control_state")
    if state is None:
        return Ack(*head, command_id, status)
    if type(state) is not int:
        raise _wrong_type("control_state", "an integer", state)
    if state not in (0, 1, 2):
        raise _Refused(
            RejectionReason.BAD_VALUE,
            "control_state must be 0 (disconnected), 1 (connected) or 2 (ready for "
            f"reconnection), got {state}",
        )
    # IC 70 state 2, ready for reconnection, is a relay still open: supply is off until the
    # consumer presses the meter's button, so for billing and supply it counts as open.
    return Ack(*head, command_id, status, relay_closed=state == 1)


_Head = tuple[str, str, str, datetime]  # discom, meter_id, msg_id, meter_time
_DECODERS: dict[Channel, Callable[[dict[str, object], _Head], Uplink]] = {
    Channel.READINGS: _reading,
    Channel.EVENTS: _event,
    Channel.ACKS: _ack,
}


def _rejection(topic_name: object, error: Exception) -> Rejection:
    where = topic_name if isinstance(topic_name, str) else ""
    if isinstance(error, _Refused):
        return Rejection(error.reason.value, error.detail, where)
    # The head-end's network thread must survive even a bug here; tests prove it unused.
    detail = f"payload crashed the decoder: {type(error).__name__} {_show(str(error))}"
    return Rejection(RejectionReason.CODEC_ERROR.value, detail, where)


def decode_uplink(topic_name: str, payload: bytes) -> Uplink | Rejection:
    """Decode and validate one uplink message; never raises.

    Problems are reported in this order, first one wins: oversized, bad_topic, not_json,
    not_an_object, missing/bad "v", meter_mismatch, then the fields in document order.
    Cost: one JSON parse, one precompiled topic match, then a dict look-up and a type check
    per field: about 20 µs for a block_load reading with 4 blocks, half of it the JSON parse.
    """
    try:
        _check_size(payload)  # before even the topic: the cheapest refusal
        discom, meter_id, channel = _route(topic_name)
        if channel is Channel.COMMANDS:
            raise _Refused(
                RejectionReason.BAD_TOPIC,
                f"topic {_show(topic_name, 120)} is the commands channel, not an uplink",
            )
        doc = _document(payload, meter_id)
        head = (discom, meter_id, _identifier(doc, "msg_id"), _instant(doc, "meter_time"))
        return _DECODERS[channel](doc, head)
    except Exception as error:
        return _rejection(topic_name, error)


def decode_command(topic_name: str, payload: bytes) -> Command | Rejection:
    """The meter's side of a command (the simulator uses it); never raises."""
    try:
        _check_size(payload)
        discom, meter_id, channel = _route(topic_name)
        if channel is not Channel.COMMANDS:
            raise _Refused(
                RejectionReason.BAD_TOPIC, f"topic {_show(topic_name, 120)} is not a commands topic"
            )
        doc = _document(payload, meter_id)
        command_id = _identifier(doc, "command_id")
        action = _member(doc, "action", _ACTIONS)
        issued_at = _instant(doc, "issued_at")
        expires_at = _instant(doc, "expires_at")
        if expires_at < issued_at:
            raise _Refused(RejectionReason.BAD_VALUE, "expires_at is before issued_at")
        method = _RELAY_METHODS.get(action)
        if method is not None:
            _member(doc, "obis", {OBIS_DISCONNECT_CONTROL: OBIS_DISCONNECT_CONTROL})
            sent = _count(doc, "method", MAX_INT32)
            if sent != method:
                raise _Refused(
                    RejectionReason.BAD_VALUE,
                    f"method must be {method} for {action.value}, got {sent}",
                )
        return Command(discom, meter_id, command_id, action, issued_at, expires_at)
    except Exception as error:
        return _rejection(topic_name, error)


# -- encoding ---------------------------------------------------------------------------------
# Encoders trust their input (it comes from our own dataclasses) except for the time zone:
# a naive datetime raises InvalidTimestamp rather than being guessed.

_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def _stamp(at: datetime) -> str:
    """UTC, "Z" suffix, microseconds kept when not zero: 2025-07-01T04:30:00.123456Z."""
    return require_utc(at).isoformat()[:-6] + "Z"


def _dump(body: dict[str, object]) -> bytes:
    return _ENCODER.encode(body).encode()


def encode_uplink(message: Uplink) -> tuple[str, bytes]:
    """Topic and JSON payload of an uplink message (the simulator's side)."""
    if not isinstance(message, Reading | Event | Ack):
        raise TypeError(f"not an uplink message: {type(message).__name__}")
    body: dict[str, object] = {
        "v": PROTOCOL_VERSION,
        "msg_id": message.msg_id,
        "meter_id": message.meter_id,
        "meter_time": _stamp(message.meter_time),
    }
    if isinstance(message, Reading):
        channel = Channel.READINGS
        registers: dict[str, int] = {OBIS_KWH_IMPORT: message.import_wh}
        if message.import_vah is not None:
            registers[OBIS_KVAH_IMPORT] = message.import_vah
        if message.max_demand_w is not None:
            registers[OBIS_MD_KW] = message.max_demand_w
        body |= {"kind": str(message.kind), "read_at": _stamp(message.read_at)}
        body["registers"] = registers
        if message.blocks:
            body["blocks"] = [
                {"start": _stamp(b.start), "minutes": b.minutes, "import_wh": b.import_wh}
                for b in message.blocks
            ]
    elif isinstance(message, Event):
        channel = Channel.EVENTS
        body |= {"event": str(message.kind), "occurred_at": _stamp(message.occurred_at)}
        if message.vendor_code is not None:
            body["vendor_code"] = message.vendor_code
        if message.final_import_wh is not None:
            body["final_import_wh"] = message.final_import_wh
    else:
        channel = Channel.ACKS
        body |= {"command_id": message.command_id, "status": str(message.status)}
        if message.relay_closed is not None:
            body["control_state"] = 1 if message.relay_closed else 0
    return topic(message.discom, message.meter_id, channel), _dump(body)


def encode_command(command: Command) -> tuple[str, bytes]:
    """Topic and JSON payload of a command; relay actions name the IC 70 object and method."""
    body: dict[str, object] = {
        "v": PROTOCOL_VERSION,
        "command_id": command.command_id,
        "meter_id": command.meter_id,
        "action": str(command.action),
        "issued_at": _stamp(command.issued_at),
        "expires_at": _stamp(command.expires_at),
    }
    method = _RELAY_METHODS.get(CommandAction(command.action))
    if method is not None:
        body |= {"obis": OBIS_DISCONNECT_CONTROL, "method": method}
    return topic(command.discom, command.meter_id, Channel.COMMANDS), _dump(body)
