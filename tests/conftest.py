"""Shared fixtures: instants in IST, and real databases for the integration suite."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from prepaidgrid.adapters.db.engine import make_engine
from prepaidgrid.adapters.db.migrate import upgrade
from prepaidgrid.domain.accounts import OrgLevel, OrgUnit
from prepaidgrid.domain.units import IST

PG_URL = os.environ.get(
    "PREPAIDGRID_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def org_chain(subdivision_code: str) -> list[OrgUnit]:
    """A DISCOM > circle > division > subdivision chain ending in `subdivision_code`."""
    return [
        OrgUnit("SBPDCL", OrgLevel.DISCOM, "South Bihar"),
        OrgUnit("CIR-1", OrgLevel.CIRCLE, "Circle 1", parent_code="SBPDCL"),
        OrgUnit("DIV-1", OrgLevel.DIVISION, "Division 1", parent_code="CIR-1"),
        OrgUnit(subdivision_code, OrgLevel.SUBDIVISION, "Sub 1", parent_code="DIV-1"),
    ]


def ist(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=IST)


def at_ist(day: datetime, clock_time: time) -> datetime:
    return datetime.combine(day.date(), clock_time, tzinfo=IST)


def _postgres_or_skip() -> Engine:
    admin = make_engine(PG_URL)
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any connection failure means "no PostgreSQL here"
        admin.dispose()
        reason = f"PostgreSQL unreachable at {PG_URL}: {type(error).__name__}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: integration tests must run, never skip)")
        pytest.skip(reason)
    return admin


def fresh_postgres_schema() -> Iterator[Engine]:
    """A private, migrated schema per test: isolated, and dropped afterwards."""
    admin = _postgres_or_skip()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    # The schema travels in the URL, so that subprocesses given the URL see it too.
    engine = make_engine(f"{PG_URL}?options=-csearch_path%3D{schema}", pool_size=10)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def fresh_sqlite(path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{path / 'test.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The same test, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield from fresh_sqlite(tmp_path)
    else:
        yield from fresh_postgres_schema()
