"""The meter protocol v1 codec: round trips, every rejection code, and fuzzing."""

from __future__ import annotations

import dataclasses
import json
import string
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepaidgrid.domain.errors import InvalidTimestamp
from prepaidgrid.domain.meter_protocol import (
    MAX_BLOCKS,
    MAX_INT32,
    MAX_INT64,
    MAX_PAYLOAD_BYTES,
    OBIS_DISCONNECT_CONTROL,
    OBIS_KWH_IMPORT,
    Ack,
    AckStatus,
    Block,
    Channel,
    Command,
    CommandAction,
    Event,
    EventKind,
    Reading,
    ReadingKind,
    Rejection,
    RejectionReason,
    decode_command,
    decode_uplink,
    encode_command,
    encode_uplink,
    topic,
)
from prepaidgrid.domain.units import IST

T0 = datetime(2025, 7, 1, 4, 30, tzinfo=UTC)  # 10:00 IST
METER = "SM00000001"
READINGS = topic("SBPDCL", METER, Channel.READINGS)
EVENTS = topic("SBPDCL", METER, Channel.EVENTS)
ACKS = topic("SBPDCL", METER, Channel.ACKS)
COMMANDS = topic("SBPDCL", METER, Channel.COMMANDS)
CODES = {reason.value for reason in RejectionReason} - {RejectionReason.CODEC_ERROR.value}
DOCS = Path(__file__).parents[3] / "docs" / "meter-protocol.md"


def block_reading(blocks: int = 4) -> Reading:
    return Reading(
        "SBPDCL",
        METER,
        "SM00000001-7",
        T0 + timedelta(seconds=3),
        ReadingKind.BLOCK_LOAD,
        T0,
        import_wh=123_456,
        import_vah=130_000,
        max_demand_w=2_400,
        blocks=tuple(
            Block(T0 - timedelta(minutes=15 * (blocks - n)), 15, 100 + n) for n in range(blocks)
        ),
    )


def reading_doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(encode_uplink(block_reading())[1])
    doc.update(changes)
    return doc


def event_doc(**changes: Any) -> dict[str, Any]:
    event = Event("SBPDCL", METER, "ev-1", T0, EventKind.TAMPER, T0, vendor_code=201)
    doc: dict[str, Any] = json.loads(encode_uplink(event)[1])
    doc.update(changes)
    return doc


def ack_doc(**changes: Any) -> dict[str, Any]:
    ack = Ack("SBPDCL", METER, "ack-1", T0, "cmd-1", AckStatus.DONE, relay_closed=False)
    doc: dict[str, Any] = json.loads(encode_uplink(ack)[1])
    doc.update(changes)
    return doc


def command_doc(**changes: Any) -> dict[str, Any]:
    command = Command(
        "SBPDCL", METER, "cmd-1", CommandAction.DISCONNECT, T0, T0 + timedelta(hours=6)
    )
    doc: dict[str, Any] = json.loads(encode_command(command)[1])
    doc.update(changes)
    return doc


def raw(doc: object) -> bytes:
    return json.dumps(doc).encode()


def rejected(result: object) -> Rejection:
    assert isinstance(result, Rejection), result
    return result


def is_clean_rejection(result: object) -> bool:
    """A documented code and an ASCII one-line detail (it is stored and logged as is)."""
    if not isinstance(result, Rejection):
        return True
    return result.reason in CODES and result.detail.isascii() and result.detail.isprintable()


# -- hypothesis strategies ------------------------------------------------------------------

NAMES = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=40)
IDS = st.text(string.ascii_letters + string.digits + string.punctuation, min_size=1, max_size=64)
INSTANTS = st.datetimes(
    min_value=datetime(1971, 1, 1),  # noqa: DTZ001 -- the bounds; timezones are drawn below
    max_value=datetime(2099, 12, 31),  # noqa: DTZ001
    timezones=st.sampled_from([UTC, IST, timezone(timedelta(hours=-4))]),
)
BLOCKS = st.builds(Block, INSTANTS, st.sampled_from([15, 30]), st.integers(0, MAX_INT32))
READING_MESSAGES = st.builds(
    Reading,
    NAMES,
    NAMES,
    IDS,
    INSTANTS,
    st.sampled_from(ReadingKind),
    INSTANTS,
    st.integers(0, MAX_INT64),
    st.none() | st.integers(0, MAX_INT64),
    st.none() | st.integers(0, MAX_INT32),
    st.lists(BLOCKS, max_size=6).map(tuple),
)


@st.composite
def event_messages(draw: st.DrawFn) -> Event:
    kind = draw(st.sampled_from(EventKind))
    finals = st.integers(0, MAX_INT64)
    final = draw(finals if kind is EventKind.METER_REPLACED else st.none() | finals)
    return Event(
        draw(NAMES),
        draw(NAMES),
        draw(IDS),
        draw(INSTANTS),
        kind,
        draw(INSTANTS),
        draw(st.none() | st.integers(0, MAX_INT32)),
        final,
    )


ACK_MESSAGES = st.builds(
    Ack,
    NAMES,
    NAMES,
    IDS,
    INSTANTS,
    IDS,
    st.sampled_from(AckStatus),
    st.none() | st.booleans(),
)
UPLINKS = READING_MESSAGES | event_messages() | ACK_MESSAGES


@st.composite
def commands(draw: st.DrawFn) -> Command:
    issued_at = draw(INSTANTS)
    expires_at = issued_at + draw(st.timedeltas(timedelta(0), timedelta(days=7)))
    return Command(
        draw(NAMES), draw(NAMES), draw(IDS), draw(st.sampled_from(CommandAction)), issued_at,
        expires_at,
    )  # fmt: skip


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def mutate(data: st.DataObject, node: object) -> object:
    """One random edit somewhere in a JSON tree: delete, replace or descend."""
    if isinstance(node, dict) and node:
        key = data.draw(st.sampled_from(sorted(node)))
        edit = data.draw(st.sampled_from(["delete", "replace", "descend"]))
        copy = dict(node)
        if edit == "delete":
            del copy[key]
        else:
            copy[key] = data.draw(JSON_VALUES) if edit == "replace" else mutate(data, node[key])
        return copy
    if isinstance(node, list) and node:
        index = data.draw(st.integers(0, len(node) - 1))
        return [*node[:index], mutate(data, node[index]), *node[index + 1 :]]
    return data.draw(JSON_VALUES)


def all_instants(value: object) -> list[datetime]:
    if isinstance(value, datetime):
        return [value]
    if isinstance(value, tuple):
        return [at for item in value for at in all_instants(item)]
    if dataclasses.is_dataclass(value):
        fields = dataclasses.fields(value)
        return [at for f in fields for at in all_instants(getattr(value, f.name))]
    return []


# -- round trips ------------------------------------------------------------------------------


@given(message=UPLINKS)
def test_every_valid_uplink_survives_encoding_and_decoding(message: Reading | Event | Ack) -> None:
    topic_name, payload = encode_uplink(message)

    decoded = decode_uplink(topic_name, payload)

    assert decoded == message
    assert all(at.tzinfo is UTC for at in all_instants(decoded))


@given(command=commands())
def test_every_valid_command_survives_encoding_and_decoding(command: Command) -> None:
    topic_name, payload = encode_command(command)

    decoded = decode_command(topic_name, payload)

    assert decoded == command
    assert isinstance(decoded, Command)
    assert decoded.issued_at.tzinfo is UTC
    assert decoded.expires_at.tzinfo is UTC


def test_a_block_load_reading_decodes_into_typed_utc_values() -> None:
    payload = raw(
        {
            "v": 1,
            "msg_id": "m-1",
            "meter_time": "2025-07-01T10:00:05+05:30",
            "kind": "block_load",
            "read_at": "2025-07-01T10:00:00+05:30",
            "registers": {OBIS_KWH_IMPORT: 5000},
            "blocks": [{"start": "2025-07-01T09:45:00+05:30", "minutes": 15, "import_wh": 90}],
        }
    )

    reading = decode_uplink(READINGS, payload)

    assert reading == Reading(
        "SBPDCL", METER, "m-1", T0 + timedelta(seconds=5), ReadingKind.BLOCK_LOAD, T0, 5000,
        blocks=(Block(T0 - timedelta(minutes=15), 15, 90),),
    )  # fmt: skip
    assert isinstance(reading, Reading)
    assert reading.read_at.tzinfo is UTC


def test_encoded_payloads_are_compact_ascii_json_with_utc_z_instants() -> None:
    _, payload = encode_uplink(block_reading())

    text = payload.decode("ascii")

    assert " " not in text
    assert '"read_at":"2025-07-01T04:30:00Z"' in text


def test_microseconds_are_kept() -> None:
    reading = dataclasses.replace(block_reading(), read_at=T0.replace(microsecond=123_456))

    decoded = decode_uplink(*encode_uplink(reading))

    assert isinstance(decoded, Reading)
    assert decoded.read_at.microsecond == 123_456


def test_encoding_refuses_a_naive_datetime() -> None:
    naive = dataclasses.replace(block_reading(), read_at=datetime(2025, 7, 1))  # noqa: DTZ001

    with pytest.raises(InvalidTimestamp):
        encode_uplink(naive)


def test_relay_commands_name_the_disconnect_control_object_and_its_method() -> None:
    disconnect = Command("D", "M", "c1", CommandAction.DISCONNECT, T0, T0)
    reconnect = dataclasses.replace(disconnect, action=CommandAction.RECONNECT)
    read_now = dataclasses.replace(disconnect, action=CommandAction.READ_NOW)

    bodies = [json.loads(encode_command(c)[1]) for c in (disconnect, reconnect, read_now)]

    assert [(b.get("obis"), b.get("method")) for b in bodies] == [
        (OBIS_DISCONNECT_CONTROL, 1),
        (OBIS_DISCONNECT_CONTROL, 2),
        (None, None),
    ]


def test_control_state_tells_whether_the_relay_is_closed() -> None:
    states = [
        ack_doc(control_state=1),
        ack_doc(control_state=0),
        ack_doc(control_state=2),  # IC 70 "ready for reconnection": the relay is still open
        ack_doc(control_state=None),
    ]

    acks = [decode_uplink(ACKS, raw(doc)) for doc in states]

    assert [a.relay_closed for a in acks if isinstance(a, Ack)] == [True, False, False, None]


def test_unknown_fields_and_registers_are_ignored_within_v1() -> None:
    doc = reading_doc(firmware="2.1", registers={OBIS_KWH_IMPORT: 7, "1.0.2.8.0.255": 3})

    reading = decode_uplink(READINGS, raw(doc))

    assert isinstance(reading, Reading)
    assert (reading.import_wh, reading.import_vah, reading.max_demand_w) == (7, None, None)


def test_a_payload_without_meter_id_takes_it_from_the_topic() -> None:
    doc = reading_doc()
    del doc["meter_id"]

    reading = decode_uplink(READINGS, raw(doc))

    assert isinstance(reading, Reading)
    assert (reading.discom, reading.meter_id) == ("SBPDCL", METER)


def test_a_payload_of_exactly_the_size_limit_is_accepted() -> None:
    payload = encode_uplink(block_reading())[1]
    padded = payload + b" " * (MAX_PAYLOAD_BYTES - len(payload))

    assert isinstance(decode_uplink(READINGS, padded), Reading)


def test_every_rejection_code_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")

    assert [r.value for r in RejectionReason if f"`{r.value}`" not in text] == []


# -- one test per rejection code ------------------------------------------------------------


def test_a_payload_over_the_size_limit_is_oversized() -> None:
    result = rejected(decode_uplink(READINGS, b" " * (MAX_PAYLOAD_BYTES + 1)))

    assert result.reason == "oversized"
    assert "payload" in result.detail
    assert result.topic == READINGS


@pytest.mark.parametrize(
    "topic_name",
    [
        "elsewhere/x",
        "prepaidgrid/v2/SBPDCL/meters/SM1/readings",
        "prepaidgrid/v1/SBPDCL/meters/SM1/telemetry",
        "prepaidgrid/v1/SBPDCL/meters/SM 1/readings",
        "prepaidgrid/v1/SBPDCL/meters/" + "M" * 41 + "/readings",
        "prepaidgrid/v1//meters/SM1/readings",
        "prepaidgrid/v1/SBPDCL/meters/SM1/readings/",
        "prepaidgrid/v1/SBPDCL/meters/SM1/readings\n",
        "prepaidgrid/v1/SBPDCL/meters/SM1/commands",
    ],
)
def test_an_uplink_on_a_foreign_or_malformed_topic_is_bad_topic(topic_name: str) -> None:
    result = rejected(decode_uplink(topic_name, encode_uplink(block_reading())[1]))

    assert result.reason == "bad_topic"
    assert "topic" in result.detail


def test_a_command_on_an_uplink_topic_is_bad_topic() -> None:
    result = rejected(decode_command(READINGS, raw(command_doc())))

    assert result.reason == "bad_topic"
    assert "topic" in result.detail


@pytest.mark.parametrize(
    "payload", [b"{not json", b"", b"\xff\xfe{}", b'{"v":NaN}', b"[" * 50_000, b"\xef\xbb\xbf{}"]
)
def test_a_payload_that_is_not_utf8_json_is_not_json(payload: bytes) -> None:
    result = rejected(decode_uplink(READINGS, payload))

    assert result.reason == "not_json"
    assert "payload" in result.detail


@pytest.mark.parametrize("payload", [b"[1]", b"42", b'"reading"', b"null", b"true"])
def test_json_that_is_not_an_object_is_not_an_object(payload: bytes) -> None:
    result = rejected(decode_uplink(READINGS, payload))

    assert result.reason == "not_an_object"
    assert "payload" in result.detail


@pytest.mark.parametrize("version", [0, 2, -1])
def test_another_protocol_version_is_unsupported(version: int) -> None:
    result = rejected(decode_uplink(READINGS, raw(reading_doc(v=version))))

    assert result.reason == "unsupported_version"
    assert result.detail.startswith("v must be 1")


@pytest.mark.parametrize(
    ("topic_name", "make_doc", "field"),
    [
        (READINGS, reading_doc, "v"),
        (READINGS, reading_doc, "msg_id"),
        (READINGS, reading_doc, "meter_time"),
        (READINGS, reading_doc, "kind"),
        (READINGS, reading_doc, "read_at"),
        (READINGS, reading_doc, "registers"),
        (EVENTS, event_doc, "event"),
        (EVENTS, event_doc, "occurred_at"),
        (ACKS, ack_doc, "command_id"),
        (ACKS, ack_doc, "status"),
    ],
)
def test_a_message_without_a_required_field_is_missing_field(
    topic_name: str, make_doc: Any, field: str
) -> None:
    doc = make_doc()
    del doc[field]

    result = rejected(decode_uplink(topic_name, raw(doc)))

    assert result.reason == "missing_field"
    assert result.detail.startswith(f"{field} ")


def test_a_reading_without_the_kwh_register_is_missing_field() -> None:
    doc = reading_doc(registers={"1.0.9.8.0.255": 10})

    result = rejected(decode_uplink(READINGS, raw(doc)))

    assert result.reason == "missing_field"
    assert result.detail.startswith(f"registers.{OBIS_KWH_IMPORT} ")


def test_a_block_without_minutes_is_missing_field_naming_its_index() -> None:
    doc = reading_doc()
    del doc["blocks"][2]["minutes"]

    result = rejected(decode_uplink(READINGS, raw(doc)))

    assert result.reason == "missing_field"
    assert result.detail.startswith("blocks[2].minutes ")


def test_a_meter_replaced_event_without_the_final_register_is_missing_field() -> None:
    doc = event_doc(event="meter_replaced")

    result = rejected(decode_uplink(EVENTS, raw(doc)))

    assert result.reason == "missing_field"
    assert "final_import_wh" in result.detail


def test_a_command_without_its_method_is_missing_field() -> None:
    doc = command_doc()
    del doc["method"]

    result = rejected(decode_command(COMMANDS, raw(doc)))

    assert result.reason == "missing_field"
    assert result.detail.startswith("method ")


@pytest.mark.parametrize(
    ("topic_name", "doc", "field"),
    [
        (READINGS, reading_doc(v="1"), "v"),
        (READINGS, reading_doc(v=True), "v"),
        (READINGS, reading_doc(msg_id=7), "msg_id"),
        (READINGS, reading_doc(meter_id=1), "meter_id"),
        (READINGS, reading_doc(meter_time=1_751_344_200), "meter_time"),
        (READINGS, reading_doc(kind=["block_load"]), "kind"),
        (READINGS, reading_doc(registers=[5]), "registers"),
        (READINGS, reading_doc(registers={OBIS_KWH_IMPORT: True}), "registers.1.0.1.8.0.255"),
        (READINGS, reading_doc(registers={OBIS_KWH_IMPORT: 5.0}), "registers.1.0.1.8.0.255"),
        (READINGS, reading_doc(registers={OBIS_KWH_IMPORT: "5"}), "registers.1.0.1.8.0.255"),
        (READINGS, reading_doc(blocks={"start": "x"}), "blocks"),
        (READINGS, reading_doc(blocks=[5]), "blocks[0]"),
        (EVENTS, event_doc(vendor_code="201"), "vendor_code"),
        (ACKS, ack_doc(control_state=False), "control_state"),
    ],
)
def test_a_field_of_the_wrong_json_type_is_bad_type(
    topic_name: str, doc: dict[str, Any], field: str
) -> None:
    result = rejected(decode_uplink(topic_name, raw(doc)))

    assert result.reason == "bad_type"
    assert result.detail.startswith(f"{field} ")


def test_a_block_with_a_float_energy_is_bad_type() -> None:
    doc = reading_doc()
    doc["blocks"][1]["import_wh"] = 100.0

    result = rejected(decode_uplink(READINGS, raw(doc)))

    assert result.reason == "bad_type"
    assert result.detail.startswith("blocks[1].import_wh ")


@pytest.mark.parametrize(
    ("topic_name", "doc", "field"),
    [
        (READINGS, reading_doc(registers={OBIS_KWH_IMPORT: -1}), "registers.1.0.1.8.0.255"),
        (READINGS, reading_doc(registers={OBIS_KWH_IMPORT: 2**63}), "registers.1.0.1.8.0.255"),
        (READINGS, reading_doc(kind="monthly"), "kind"),
        (READINGS, reading_doc(msg_id=""), "msg_id"),
        (READINGS, reading_doc(msg_id="m" * 65), "msg_id"),
        (READINGS, reading_doc(msg_id="a b"), "msg_id"),
        (READINGS, reading_doc(msg_id="a\x00b"), "msg_id"),
        (READINGS, reading_doc(msg_id="dé"), "msg_id"),
        (READINGS, reading_doc(blocks=[reading_doc()["blocks"][0]] * (MAX_BLOCKS + 1)), "blocks"),
        (EVENTS, event_doc(event="earthquake"), "event"),
        (EVENTS, event_doc(vendor_code=-3), "vendor_code"),
        (ACKS, ack_doc(status="maybe"), "status"),
        (ACKS, ack_doc(control_state=3), "control_state"),
    ],
)
def test_a_field_with_an_impossible_value_is_bad_value(
    topic_name: str, doc: dict[str, Any], field: str
) -> None:
    result = rejected(decode_uplink(topic_name, raw(doc)))

    assert result.reason == "bad_value"
    assert result.detail.startswith(f"{field} ")


@pytest.mark.parametrize("minutes", [0, 5, 20, 60])
def test_a_block_of_other_than_15_or_30_minutes_is_bad_value(minutes: int) -> None:
    doc = reading_doc()
    doc["blocks"][0]["minutes"] = minutes

    result = rejected(decode_uplink(READINGS, raw(doc)))

    assert result.reason == "bad_value"
    assert result.detail.startswith("blocks[0].minutes ")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"method": 2}, "method"),
        ({"obis": "0.0.17.0.0.255"}, "obis"),
        ({"action": "explode"}, "action"),
        ({"expires_at": "2025-07-01T04:29:59Z"}, "expires_at"),
    ],
)
def test_a_contradictory_command_is_bad_value(changes: dict[str, Any], field: str) -> None:
    result = rejected(decode_command(COMMANDS, raw(command_doc(**changes))))

    assert result.reason == "bad_value"
    assert result.detail.startswith(f"{field} ")


@pytest.mark.parametrize(
    "stamp",
    [
        "2025-07-01T10:00:00",  # naive: the meter's zone is not guessed
        "2025-07-01",
        "yesterday",
        "2025-13-01T00:00:00Z",
        "0001-01-01T00:00:00+05:30",  # before year 1 once in UTC
        "",
    ],
)
def test_an_instant_without_offset_or_not_iso_is_bad_timestamp(stamp: str) -> None:
    result = rejected(decode_uplink(READINGS, raw(reading_doc(read_at=stamp))))

    assert result.reason == "bad_timestamp"
    assert result.detail.startswith("read_at ")


def test_a_block_with_a_naive_start_is_bad_timestamp_naming_its_index() -> None:
    doc = reading_doc()
    doc["blocks"][3]["start"] = "2025-07-01T09:45:00"

    result = rejected(decode_uplink(READINGS, raw(doc)))

    assert result.reason == "bad_timestamp"
    assert result.detail.startswith("blocks[3].start ")


def test_a_payload_about_another_meter_is_meter_mismatch() -> None:
    result = rejected(decode_uplink(READINGS, raw(reading_doc(meter_id="SM00000002"))))

    assert result.reason == "meter_mismatch"
    assert result.detail.startswith("meter_id ")


def test_a_caller_passing_the_wrong_type_gets_a_codec_error_not_an_exception() -> None:
    result = rejected(decode_uplink(READINGS, None))  # type: ignore[arg-type]

    assert result.reason == "codec_error"
    assert "TypeError" in result.detail


# -- fuzzing ----------------------------------------------------------------------------------


@settings(max_examples=300)
@given(channel=st.sampled_from([READINGS, EVENTS, ACKS]), payload=st.binary(max_size=600))
def test_arbitrary_bytes_never_raise(channel: str, payload: bytes) -> None:
    result = decode_uplink(channel, payload)

    assert is_clean_rejection(result)


@given(channel=st.sampled_from([READINGS, EVENTS, ACKS, COMMANDS]), value=JSON_VALUES)
def test_arbitrary_json_values_never_raise(channel: str, value: object) -> None:
    uplink = decode_uplink(channel, raw(value))
    command = decode_command(channel, raw(value))

    assert is_clean_rejection(uplink)
    assert is_clean_rejection(command)


@given(message=UPLINKS, data=st.data())
def test_a_mutated_valid_uplink_is_decoded_or_cleanly_rejected(
    message: Reading | Event | Ack, data: st.DataObject
) -> None:
    topic_name, payload = encode_uplink(message)
    mutated = raw(mutate(data, json.loads(payload)))

    result = decode_uplink(topic_name, mutated)

    assert is_clean_rejection(result)
    if not isinstance(result, Rejection):  # whatever is accepted re-encodes to itself
        assert decode_uplink(*encode_uplink(result)) == result


@given(command=commands(), data=st.data())
def test_a_mutated_valid_command_is_decoded_or_cleanly_rejected(
    command: Command, data: st.DataObject
) -> None:
    topic_name, payload = encode_command(command)
    mutated = raw(mutate(data, json.loads(payload)))

    result = decode_command(topic_name, mutated)

    assert is_clean_rejection(result)


@given(message=UPLINKS, cut=st.integers(0, 10_000), noise=st.binary(min_size=1, max_size=8))
def test_truncated_or_corrupted_bytes_never_raise(
    message: Reading | Event | Ack, cut: int, noise: bytes
) -> None:
    topic_name, payload = encode_uplink(message)
    cut %= len(payload)

    truncated = decode_uplink(topic_name, payload[:cut])
    corrupted = decode_uplink(topic_name, payload[:cut] + noise + payload[cut + len(noise) :])

    assert is_clean_rejection(truncated)
    assert is_clean_rejection(corrupted)


@given(topic_name=st.text(max_size=120))
def test_arbitrary_topics_never_raise(topic_name: str) -> None:
    result = decode_uplink(topic_name, encode_uplink(block_reading())[1])

    assert is_clean_rejection(result)
