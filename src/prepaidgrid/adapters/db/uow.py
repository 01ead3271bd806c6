"""The SQL unit of work: one transaction per use case, repositories bound to it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection as SqlConnection
from sqlalchemy import Engine

from prepaidgrid.adapters.db.access_repository import SqlAccess
from prepaidgrid.adapters.db.billing_repository import SqlBulkBilling
from prepaidgrid.adapters.db.care_repository import SqlCare
from prepaidgrid.adapters.db.counter_repository import SqlCounters
from prepaidgrid.adapters.db.meter_repositories import SqlMeterData, SqlRelayCommands
from prepaidgrid.adapters.db.payment_repositories import SqlPaymentEvents, SqlPaymentOrders
from prepaidgrid.adapters.db.repositories import (
    SqlCharges,
    SqlConnections,
    SqlLedger,
    SqlOutbox,
    SqlPayments,
    SqlPlatform,
)


class SqlUnitOfWork:
    """`with uow:` opens a transaction; `commit()` ends it; leaving without commit rolls back.

    `read_only=True`: a transaction that only reads and does not wait for the write lock
    (SQLite: a deferred BEGIN, so it reads beside the one writer; PostgreSQL: READ ONLY)."""

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self._engine = engine
        self._read_only = read_only
        self._connection: SqlConnection | None = None

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("unit of work is already open")
        self._connection = self._engine.connect()
        if self._read_only:
            self._connection.execution_options(prepaidgrid_read_only=True)
        self._connection.begin()
        if self._read_only and self._connection.dialect.name == "postgresql":
            self._connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        self._connections = SqlConnections(self._connection)
        self._ledger = SqlLedger(self._connection)
        self._payments = SqlPayments(self._connection)
        self._charges = SqlCharges(self._connection)
        self._outbox = SqlOutbox(self._connection)
        self._platform = SqlPlatform(self._connection)
        self._meter_data = SqlMeterData(self._connection)
        self._relay_commands = SqlRelayCommands(self._connection)
        self._billing = SqlBulkBilling(self._connection)
        self._orders = SqlPaymentOrders(self._connection)
        self._payment_events = SqlPaymentEvents(self._connection)
        self._counters = SqlCounters(self._connection)
        self._access = SqlAccess(self._connection)
        self._care = SqlCare(self._connection)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if connection.in_transaction():
                connection.rollback()
        finally:
            connection.close()

    def commit(self) -> None:
        if self._connection is None:
            raise RuntimeError("commit outside a unit of work")
        self._connection.commit()

    @property
    def billing(self) -> SqlBulkBilling:
        return self._billing

    @property
    def connections(self) -> SqlConnections:
        return self._connections

    @property
    def ledger(self) -> SqlLedger:
        return self._ledger

    @property
    def payments(self) -> SqlPayments:
        return self._payments

    @property
    def charges(self) -> SqlCharges:
        return self._charges

    @property
    def outbox(self) -> SqlOutbox:
        return self._outbox

    @property
    def platform(self) -> SqlPlatform:
        return self._platform

    @property
    def meter_data(self) -> SqlMeterData:
        return self._meter_data

    @property
    def relay_commands(self) -> SqlRelayCommands:
        return self._relay_commands

    @property
    def orders(self) -> SqlPaymentOrders:
        return self._orders

    @property
    def payment_events(self) -> SqlPaymentEvents:
        return self._payment_events

    @property
    def counters(self) -> SqlCounters:
        return self._counters

    @property
    def access(self) -> SqlAccess:
        return self._access

    @property
    def care(self) -> SqlCare:
        return self._care
