"""Helpers for the head-end tests: a populated database, simulated meters, waiting."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import Engine, text

from prepaidgrid.adapters.books import PackagedPolicyBook
from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.domain.accounts import NewConnection
from prepaidgrid.domain.errors import AlreadyExists
from prepaidgrid.domain.meter_protocol import Block, Reading, ReadingKind
from prepaidgrid.services.onboarding import (
    InstallSmartMeter,
    add_org_units,
    install_smart_meter,
    open_connection,
)
from tests.conftest import ist, org_chain

POLICIES = PackagedPolicyBook()
START = ist(2025, 7, 1, 0)


def install_meters(engine: Engine, count: int, clock: SettableClock | None = None) -> list[str]:
    clock = clock or SettableClock(START - timedelta(days=1))
    with contextlib.suppress(AlreadyExists):
        add_org_units(org_chain("SUB-1"), SqlUnitOfWork(engine))
    meters = []
    for n in range(count):
        account_id, meter_id = f"ACC-{n:04d}", f"SM{n:08d}"
        open_connection(
            NewConnection(account_id, "Test", "9876500001", "DS-II", 2000, "SUB-1", "SBPDCL"),
            SqlUnitOfWork(engine),
            clock,
        )
        install_smart_meter(
            InstallSmartMeter(account_id, meter_id), SqlUnitOfWork(engine), clock, POLICIES
        )
        meters.append(meter_id)
    return meters


def reading(meter_id: str, n: int, discom: str = "SBPDCL") -> Reading:
    """The n-th 15-minute block reading of a meter: 100 Wh a block, cumulative register."""
    block_start = START + timedelta(minutes=15 * n)
    read_at: datetime = block_start + timedelta(minutes=15)
    return Reading(
        discom=discom,
        meter_id=meter_id,
        msg_id=f"{meter_id}-{n}",
        meter_time=read_at,
        kind=ReadingKind.BLOCK_LOAD,
        read_at=read_at,
        import_wh=100 * (n + 1),
        blocks=(Block(block_start, 15, 100),),
    )


def count(engine: Engine, table: str) -> int:
    with engine.connect() as db:
        return int(db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")
