"""Ingestion through the real unit of work: once per message, once per read, reasons kept."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.domain.errors import AlreadyExists, NotFound
from prepaidgrid.domain.meter_protocol import Rejection, decode_uplink, encode_uplink
from prepaidgrid.services.headend import Received, ingest_uplinks
from prepaidgrid.services.onboarding import ReplaceMeter, replace_meter
from tests.integration.headend_support import POLICIES, START, count, install_meters, reading

pytestmark = pytest.mark.integration


def received(message: object) -> Received:
    topic, payload = encode_uplink(message)  # type: ignore[arg-type]
    return Received(topic, decode_uplink(topic, payload))


def test_duplicates_and_redeliveries_are_stored_once(engine: Engine) -> None:
    meters = install_meters(engine, 2)
    batch = [received(reading(m, n)) for m in meters for n in range(10)]
    clock = SettableClock(START)

    first = ingest_uplinks(batch, SqlUnitOfWork(engine), clock, POLICIES)
    again = ingest_uplinks(list(reversed(batch)), SqlUnitOfWork(engine), clock, POLICIES)

    assert (first.readings, first.duplicates) == (20, 0)
    assert (again.readings, again.duplicates) == (0, 20)
    assert count(engine, "register_reads") == 20
    assert count(engine, "interval_blocks") == 20


def test_a_large_batch_with_repeats_inside_it_stores_each_message_and_read_once(
    engine: Engine,
) -> None:
    """Past one multi-row statement (500 rows), with a redelivery and a re-sent read time
    inside the same batch; what is stored reads back as the instants that were sent."""
    meters = install_meters(engine, 3)
    readings = [reading(m, n) for m in meters for n in range(200)]
    repeats = [readings[7], dataclasses.replace(readings[450], msg_id="late-resend")]
    clock = SettableClock(START)

    result = ingest_uplinks(
        [received(r) for r in readings + repeats], SqlUnitOfWork(engine), clock, POLICIES
    )

    assert result.duplicates == 1  # the same (meter, msg_id): absorbed by meter_messages
    assert count(engine, "meter_messages") == 601
    assert count(engine, "register_reads") == 600  # the same (meter, read_at): one read
    assert count(engine, "interval_blocks") == 600
    with SqlUnitOfWork(engine) as uow:
        stored = uow.meter_data.register_reads([meters[0]], START, START + timedelta(days=3))
    assert [r.read_at for r in stored] == [r.read_at for r in readings[:200]]
    assert [r.import_wh for r in stored] == [r.import_wh for r in readings[:200]]


def test_a_new_message_id_for_a_known_read_time_does_not_double_the_read(engine: Engine) -> None:
    meter = install_meters(engine, 1)[0]
    original = reading(meter, 0)
    resent = received(dataclasses.replace(original, msg_id="other-id"))
    clock = SettableClock(START)

    ingest_uplinks([received(original)], SqlUnitOfWork(engine), clock, POLICIES)
    ingest_uplinks([resent], SqlUnitOfWork(engine), clock, POLICIES)

    assert count(engine, "register_reads") == 1


def test_bad_and_unknown_messages_are_rejected_with_reasons_and_never_touch_the_ledger(
    engine: Engine,
) -> None:
    meter = install_meters(engine, 1)[0]
    journals_before = count(engine, "journals")
    topic, payload = encode_uplink(reading(meter, 0))
    batch = [
        Received(topic, decode_uplink(topic, b"{not json")),
        Received(topic, decode_uplink(topic, b"x" * 70_000)),
        Received("elsewhere/x", decode_uplink("elsewhere/x", payload)),
        received(reading("SM99999999", 0)),
        received(reading(meter, 1, discom="NBPDCL")),
        received(reading(meter, 2)),
    ]

    result = ingest_uplinks(batch, SqlUnitOfWork(engine), SettableClock(START), POLICIES)

    assert result.readings == 1
    assert set(result.rejected) == {
        "not_json",
        "oversized",
        "bad_topic",
        "unknown_meter",
        "wrong_discom",
    }
    with engine.connect() as db:
        reasons = {row[0] for row in db.execute(text("SELECT reason FROM rejected_messages"))}
    assert reasons == set(result.rejected)
    assert count(engine, "journals") == journals_before
    assert all(isinstance(r.message, Rejection) for r in batch[:3])


def test_after_a_meter_swap_both_meters_report_to_the_account_and_commands_go_to_the_new(
    engine: Engine,
) -> None:
    old = install_meters(engine, 1)[0]
    clock = SettableClock(START + timedelta(hours=5))
    replace_meter(ReplaceMeter("ACC-0000", old, "SM-NEW-1"), SqlUnitOfWork(engine), clock)

    late_final_read = received(reading(old, 3))  # the old meter's last upload, after the swap
    first_new = received(reading("SM-NEW-1", 21))
    result = ingest_uplinks([late_final_read, first_new], SqlUnitOfWork(engine), clock, POLICIES)

    assert (result.readings, result.rejected) == (2, {})
    with SqlUnitOfWork(engine) as uow:
        assert uow.connections.get("ACC-0000").meter_id == "SM-NEW-1"
    with pytest.raises(NotFound):
        replace_meter(ReplaceMeter("ACC-0000", old, "SM-NEW-2"), SqlUnitOfWork(engine), clock)
    with pytest.raises(AlreadyExists):
        replace_meter(ReplaceMeter("ACC-0000", "SM-NEW-1", old), SqlUnitOfWork(engine), clock)
