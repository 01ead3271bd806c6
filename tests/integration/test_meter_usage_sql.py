"""Meter data ingested through the head-end, daily usage computed and billed, on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import typer
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from prepaidgrid.adapters.books import PackagedTariffBook
from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.db.verify import verify_ledger
from prepaidgrid.domain.meter_protocol import (
    Block,
    Event,
    EventKind,
    Reading,
    ReadingKind,
    decode_uplink,
    encode_uplink,
)
from prepaidgrid.domain.meterdata import UsageMethod
from prepaidgrid.domain.tariffs import Usage, daily_charge
from prepaidgrid.domain.units import IST, ist_midnight
from prepaidgrid.entrypoints.cli_meterdata import bill_day, usage_app
from prepaidgrid.services.headend import Received, ingest_uplinks
from prepaidgrid.services.meter_usage import bill_metered_day, compute_daily_usage
from prepaidgrid.services.onboarding import ReplaceMeter, replace_meter
from tests.conftest import database_url, fresh_sqlite, ist
from tests.integration.headend_support import POLICIES, START, count, install_meters

pytestmark = pytest.mark.integration
TARIFFS = PackagedTariffBook()
JULY = date(2025, 7, 1)  # START's day
BLOCK = timedelta(minutes=15)
SWAP_AT = ist(2025, 7, 2, 14)  # the second meter is replaced then


def received(message: Reading | Event) -> Received:
    topic, payload = encode_uplink(message)
    return Received(topic, decode_uplink(topic, payload))


class Meter:
    """A meter that captures 15-minute blocks and uploads them with its register."""

    def __init__(self, meter_id: str, register_wh: int, wh_per_block: int) -> None:
        self.meter_id, self.register_wh, self.wh_per_block = meter_id, register_wh, wh_per_block
        self.sent = 0

    def _message_id(self) -> str:
        self.sent += 1
        return f"{self.meter_id}-{self.sent}"

    def snapshot(self, at: datetime, sent_at: datetime) -> Reading:
        return Reading(
            "SBPDCL", self.meter_id, self._message_id(), sent_at, ReadingKind.DAILY, at,
            self.register_wh,
        )  # fmt: skip

    def block(self, start: datetime, sent_at: datetime) -> Reading:
        # evening blocks use twice as much: days differ from a flat profile
        wh = self.wh_per_block * (2 if start.astimezone(IST).hour >= 18 else 1)
        self.register_wh += wh
        return Reading(
            "SBPDCL", self.meter_id, self._message_id(), sent_at, ReadingKind.BLOCK_LOAD,
            start + BLOCK, self.register_wh, blocks=(Block(start, 15, wh),),
        )  # fmt: skip

    def replaced(self, at: datetime) -> Event:
        return Event(
            "SBPDCL", self.meter_id, self._message_id(), at, EventKind.METER_REPLACED, at,
            final_import_wh=self.register_wh,
        )  # fmt: skip


def day_of_uploads(
    meters: list[Meter], day: date, *, swap: Meter | None = None
) -> list[Reading | Event]:
    """One IST day of blocks from each meter, sent in one batch just after midnight; with
    `swap`, meters[-1] is replaced at SWAP_AT by `swap`."""
    sent_at = ist_midnight(day + timedelta(days=1)) + timedelta(minutes=5)
    messages: list[Reading | Event] = []
    start = ist_midnight(day)
    for n in range(96):
        block_start = start + n * BLOCK
        for index, meter in enumerate(meters):
            if swap is not None and index == len(meters) - 1 and block_start >= SWAP_AT:
                if block_start == SWAP_AT:
                    messages.append(meter.replaced(SWAP_AT))
                meter = swap
            messages.append(meter.block(block_start, sent_at))
    return messages


def ingest(engine: Engine, messages: list[Reading | Event], clock: SettableClock) -> None:
    result = ingest_uplinks([received(m) for m in messages], SqlUnitOfWork(engine), clock, POLICIES)
    assert result.rejected == {}


def charges(engine: Engine) -> dict[tuple[str, date], tuple[int, int]]:
    """(account, day) -> (used Wh, total paise) of the posted daily charges."""
    with engine.connect() as db:
        rows = db.execute(
            text("SELECT account_id, bill_day, used_wh, total_paise FROM daily_charges")
        )
        return {(r[0], date.fromisoformat(str(r[1]))): (int(r[2]), int(r[3])) for r in rows}


def opened(engine: Engine, meters: list[Meter]) -> SettableClock:
    """Each meter's snapshot at START, sent five minutes later; the clock then."""
    clock = SettableClock(START + timedelta(minutes=5))
    ingest(engine, [m.snapshot(START, clock.now()) for m in meters], clock)
    return clock


def test_ingested_readings_become_daily_usage_billed_once(engine: Engine) -> None:
    meter_ids = install_meters(engine, 2)  # DS-II, 2 kW, installed the day before START
    meters = [Meter(meter_ids[0], 5_000, 40), Meter(meter_ids[1], 80_000, 60)]
    new_meter = Meter("SM-NEW-1", 0, 60)
    clock = opened(engine, meters)
    for n in range(3):
        day = JULY + timedelta(days=n)
        if day < SWAP_AT.date():
            uploads = day_of_uploads(meters, day)
        elif day == SWAP_AT.date():
            clock.set(SWAP_AT - timedelta(minutes=2))  # the crew registers the swap first
            replace_meter(
                ReplaceMeter("ACC-0001", meters[1].meter_id, new_meter.meter_id),
                SqlUnitOfWork(engine),
                clock,
            )
            uploads = day_of_uploads(meters, day, swap=new_meter)
        else:
            uploads = day_of_uploads([meters[0], new_meter], day)
        clock.set(ist_midnight(day + timedelta(days=1)) + timedelta(minutes=5))
        ingest(engine, uploads, clock)

    clock.set(ist(2025, 7, 4, 0, 30))
    runs = [
        compute_daily_usage(JULY + timedelta(days=n), SqlUnitOfWork(engine), clock)
        for n in range(3)
    ]
    bills = [
        bill_metered_day(
            JULY + timedelta(days=n), lambda: SqlUnitOfWork(engine), clock, TARIFFS, POLICIES
        )
        for n in range(3)
    ]

    assert [(r.accounts, r.actual, r.estimated, r.flagged) for r in runs] == [(2, 2, 0, 0)] * 3
    with SqlUnitOfWork(engine) as uow:
        usage = {
            (row.account_id, row.usage_day): row
            for n in range(3)
            for row in uow.meter_data.daily_usage_on(JULY + timedelta(days=n))
        }
    flat_day = 72 * 40 + 24 * 80  # 18:00-24:00 IST blocks count double
    assert {key: row.used_wh for key, row in usage.items() if key[0] == "ACC-0000"} == {
        ("ACC-0000", JULY + timedelta(days=n)): flat_day for n in range(3)
    }
    assert usage[("ACC-0001", JULY)].used_wh == 72 * 60 + 24 * 120
    # the swap day: the old meter's blocks until 14:00, the new meter's after (its first
    # block ends at 14:15, and its first read stands for its register when fitted)
    assert usage[("ACC-0001", date(2025, 7, 2))].used_wh == 72 * 60 + 24 * 120 - 60
    assert usage[("ACC-0001", date(2025, 7, 2))].meter_id == "SM-NEW-1"
    assert all(row.method is UsageMethod.ACTUAL for row in usage.values())

    posted = charges(engine)
    assert {key: used for key, (used, _) in posted.items()} == {
        key: row.used_wh for key, row in usage.items()
    }
    tariff = TARIFFS.in_force("SBPDCL", JULY).category("DS-II")
    for account_id in ("ACC-0000", "ACC-0001"):
        month_wh = 0
        for n in range(3):
            day_wh = usage[(account_id, JULY + timedelta(days=n))].used_wh
            before = Usage(month_wh, n, 31, JULY, 2000)
            after = Usage(month_wh + day_wh, n + 1, 31, JULY, 2000)
            expected = daily_charge(tariff, before, after).total_paise
            assert posted[(account_id, JULY + timedelta(days=n))][1] == expected > 0
            month_wh += day_wh
    assert sum(b.charged_paise for b in bills) == sum(total for _, total in posted.values())
    assert [(b.billed, b.already_billed, b.errors) for b in bills] == [(2, 0, {})] * 3
    assert verify_ledger(engine).ok


def test_running_usage_and_billing_again_posts_nothing_new(engine: Engine) -> None:
    meter_ids = install_meters(engine, 2)
    meters = [Meter(meter_ids[0], 5_000, 40), Meter(meter_ids[1], 80_000, 60)]
    clock = opened(engine, meters)
    clock.set(ist(2025, 7, 2, 0, 5))
    uploads = day_of_uploads(meters, JULY)
    ingest(engine, uploads[:-2], clock)  # the midnight reads are not in yet
    first = compute_daily_usage(JULY, SqlUnitOfWork(engine), clock)
    billed = bill_metered_day(JULY, lambda: SqlUnitOfWork(engine), clock, TARIFFS, POLICIES)
    journals, usage_before = count(engine, "journals"), usage_rows(engine)

    ingest(engine, uploads[-2:], clock)
    again = compute_daily_usage(JULY, SqlUnitOfWork(engine), clock)
    rebilled = bill_metered_day(JULY, lambda: SqlUnitOfWork(engine), clock, TARIFFS, POLICIES)

    assert (first.estimated, billed.billed) == (2, 2)
    assert again.skipped == {"billed": 2}
    assert (rebilled.billed, rebilled.already_billed, rebilled.charged_paise) == (0, 2, 0)
    assert count(engine, "journals") == journals
    assert usage_rows(engine) == usage_before  # the billed estimates stay, to be trued up
    assert verify_ledger(engine).ok


def test_recomputing_an_unbilled_day_replaces_its_row(engine: Engine) -> None:
    meter_id = install_meters(engine, 1)[0]
    meter = Meter(meter_id, 5_000, 40)
    clock = opened(engine, [meter])
    clock.set(ist(2025, 7, 2, 0, 5))
    uploads = day_of_uploads([meter], JULY)
    ingest(engine, uploads[:-1], clock)
    compute_daily_usage(JULY, SqlUnitOfWork(engine), clock)

    ingest(engine, uploads[-1:], clock)
    run = compute_daily_usage(JULY, SqlUnitOfWork(engine), clock)

    assert run.actual == 1
    with SqlUnitOfWork(engine) as uow:
        (row,) = uow.meter_data.daily_usage_of("ACC-0000", JULY, JULY)
    assert (row.method, row.used_wh) == (UsageMethod.ACTUAL, 72 * 40 + 24 * 80)
    assert count(engine, "daily_usage") == 1


def test_the_database_refuses_an_actual_day_that_is_not_its_registers_difference(
    engine: Engine,
) -> None:
    install_meters(engine, 1)

    with pytest.raises(IntegrityError, match="actual_is_measured"), engine.begin() as db:
        db.execute(
            text(
                "INSERT INTO daily_usage (account_id, usage_day, meter_id, used_wh, method,"
                " opening_wh, closing_wh, max_demand_w, band_wh, flags, note, computed_at)"
                " VALUES ('ACC-0000', '2025-07-01', 'SM00000000', 5, 'actual', 10, 20, 0,"
                " '{}', '[]', '', '2025-07-02 00:00:00+00:00')"
            )
        )


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """The CLI builds its own engine from the URL: SQLite only, as in test_cli."""
    yield from fresh_sqlite(tmp_path)


def test_the_cli_computes_and_bills_a_day_as_json(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    meter_id = install_meters(engine, 1)[0]
    meter = Meter(meter_id, 5_000, 40)
    clock = opened(engine, [meter])
    clock.set(ist(2025, 7, 2, 0, 5))
    ingest(engine, day_of_uploads([meter], JULY), clock)
    cli = typer.Typer()
    cli.add_typer(usage_app, name="usage")
    cli.command("bill-day")(bill_day)
    db = ["--db", database_url(engine), "--at", "2025-07-02T00:30"]

    computed = CliRunner().invoke(cli, ["usage", "compute", "--day", "2025-07-01", *db])
    shown = CliRunner().invoke(cli, ["usage", "show", "--day", "2025-07-01", *db[:2]])
    billed = CliRunner().invoke(cli, ["bill-day", "--day", "2025-07-01", *db])
    refused = CliRunner().invoke(cli, ["bill-day", "--day", "1 July", *db])

    assert computed.exit_code == 0, computed.output
    assert json.loads(computed.output)["actual"] == 1
    assert json.loads(shown.output)[0]["used_wh"] == 72 * 40 + 24 * 80
    assert json.loads(billed.output)["billed"] == 1
    assert refused.exit_code == 2


def usage_rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as db:
        return [
            tuple(row)
            for row in db.execute(
                text("SELECT account_id, usage_day, used_wh, method FROM daily_usage ORDER BY 1, 2")
            )
        ]
