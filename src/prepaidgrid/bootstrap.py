"""The one composition root: settings in, wired engine, unit of work and ports out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from prepaidgrid.adapters.books import PackagedPolicyBook, PackagedTariffBook
from prepaidgrid.adapters.clock import SystemClock
from prepaidgrid.adapters.db.engine import make_engine
from prepaidgrid.adapters.db.migrate import current_revision, head_revision
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.config import Settings
from prepaidgrid.domain.errors import DomainError
from prepaidgrid.services.ports import Clock


class SchemaNotReady(DomainError):
    """The database is not at the schema this code expects."""


@dataclass(frozen=True)
class App:
    engine: Engine
    clock: Clock
    tariffs: PackagedTariffBook
    policies: PackagedPolicyBook
    new_uow: Callable[[], SqlUnitOfWork]
    # a transaction that only reads, beside the writer (the billing run reads ahead with it)
    new_reader: Callable[[], SqlUnitOfWork]

    def uow(self) -> SqlUnitOfWork:
        return self.new_uow()


def bootstrap(settings: Settings, clock: Clock | None = None, *, check_schema: bool = True) -> App:
    engine = make_engine(settings.database_url)
    if check_schema:
        at, head = current_revision(engine), head_revision()
        if at != head:
            raise SchemaNotReady(
                f"database schema is at {at or 'nothing'}, expected {head}: "
                "run `prepaidgrid db upgrade` first"
            )
    return App(
        engine=engine,
        clock=clock or SystemClock(),
        tariffs=PackagedTariffBook(),
        policies=PackagedPolicyBook(),
        new_uow=lambda: SqlUnitOfWork(engine),
        new_reader=lambda: SqlUnitOfWork(engine, read_only=True),
    )
