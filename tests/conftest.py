"""Shared fixtures: instants in IST, and real databases for the integration suite."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path
from time import time as epoch_now

import pytest
from sqlalchemy import Connection, Engine, create_engine, make_url, text

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


class _Templates:
    """One migrated database of each kind per test process, cloned for every test.

    Running the migrations took 1.3 s on SQLite and 2.3 s on PostgreSQL per test (7 December,
    2 cores, under the suite's load); copying a migrated SQLite file takes milliseconds, and
    PostgreSQL's CREATE DATABASE ... TEMPLATE about 0.1 s. Each test still gets a database of
    its own, with exactly what the migrations make: the template is built by `upgrade`, and
    nothing ever connects to it after that (PostgreSQL refuses to copy a database in use).
    """

    def __init__(self) -> None:
        self._sqlite: Path | None = None
        self._postgres: str | None = None
        self._token = uuid.uuid4().hex[:12]

    def sqlite(self) -> Path:
        if self._sqlite is None:
            path = Path(tempfile.mkdtemp(prefix="prepaidgrid-template-")) / "template.db"
            engine = make_engine(f"sqlite:///{path}")
            upgrade(engine)
            engine.dispose()  # the last connection out checkpoints the WAL into the file
            self._sqlite = path
        return self._sqlite

    def postgres(self, server: Engine) -> str:
        if self._postgres is None:
            name = f"{_pg_name_prefix()}template_{self._token}"
            with server.connect() as connection:
                _drop_stale_databases(connection)
                connection.execute(text(f"CREATE DATABASE {name}"))
            engine = make_engine(_database_url(name))
            upgrade(engine)
            engine.dispose()
            self._postgres = name
        return self._postgres

    def drop(self) -> None:
        if self._sqlite is not None:
            shutil.rmtree(self._sqlite.parent, ignore_errors=True)
        if self._postgres is not None:
            server = _server_engine()
            with server.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {self._postgres} WITH (FORCE)"))
            server.dispose()


_templates = _Templates()


@pytest.fixture(scope="session", autouse=True)
def _drop_templates() -> Iterator[None]:
    yield
    _templates.drop()


STALE_AFTER_S = 6 * 3600  # no test run lasts this long


def _pg_name_prefix() -> str:
    """Test databases carry their birth time, so a run that was killed before it could
    drop its own leaves nothing behind for long."""
    return f"pgtest_{int(epoch_now())}_"


def _drop_stale_databases(connection: Connection) -> None:
    names = connection.execute(
        text("SELECT datname FROM pg_database WHERE datname LIKE 'pgtest\\_%'")
    ).scalars()
    for name in list(names):
        born = name.split("_")[1]
        if born.isdigit() and int(born) < epoch_now() - STALE_AFTER_S:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def _database_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _server_engine() -> Engine:
    """A connection outside any transaction: CREATE and DROP DATABASE need one."""
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT")


def fresh_postgres() -> Iterator[Engine]:
    """A private, migrated database per test: isolated, and dropped afterwards. Its name
    travels in the URL, so that subprocesses given the URL see it too."""
    admin = _postgres_or_skip()
    admin.dispose()
    server = _server_engine()
    name = f"{_pg_name_prefix()}{uuid.uuid4().hex[:16]}"
    template = _templates.postgres(server)
    with server.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    engine = make_engine(_database_url(name), pool_size=10)
    try:
        yield engine
    finally:
        engine.dispose()
        with server.connect() as connection:
            # FORCE: a subprocess the test killed may still hold a connection.
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        server.dispose()


def fresh_sqlite(path: Path) -> Iterator[Engine]:
    """A migrated SQLite file of the test's own, in `path`."""
    target = path / "test.db"
    shutil.copyfile(_templates.sqlite(), target)
    engine = make_engine(f"sqlite:///{target}")
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
        yield from fresh_postgres()
