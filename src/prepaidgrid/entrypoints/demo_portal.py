"""The demo's portal: after the simulated days, serve the API and the portal over the
populated database, with demo logins printed and the simulated parts that a real
deployment has outside: a UPI gateway that pays when asked, an SMS gateway that prints
to the console, and meters that are online and acknowledge relay commands at once.

The clock stands at the end of the simulated days, so the pages show them as recent.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.tables import accounts, journals, org_units
from prepaidgrid.adapters.passwords import Argon2Hasher
from prepaidgrid.adapters.payments.simulated import SimulatedGateway, http_delivery
from prepaidgrid.bootstrap import App, bootstrap
from prepaidgrid.config import Settings
from prepaidgrid.domain.access import Role
from prepaidgrid.domain.errors import AlreadyExists
from prepaidgrid.entrypoints.api.app import create_api
from prepaidgrid.entrypoints.api.server import WEBHOOK_PATH, BackgroundServer
from prepaidgrid.services.access import AddOfficer, add_officer
from prepaidgrid.services.outbox import dispatch_outbox
from prepaidgrid.services.ports import OutboxMessage
from prepaidgrid.services.supply import RecordRelayAck, record_relay_ack

DEMO_PASSWORD = "demo-password-2021"  # printed on the console: a demo, never production


@dataclass(frozen=True)
class DemoLogin:
    who: str
    login: str
    note: str


def _end_of_simulation(app: App) -> SettableClock:
    with app.engine.connect() as db:
        last = db.execute(select(func.max(journals.c.posted_at))).scalar()
    if last is None:
        raise RuntimeError("the demo database has no postings: run the simulation first")
    return SettableClock(last + timedelta(minutes=1))


def _officers(app: App, hasher: Argon2Hasher) -> list[DemoLogin]:
    with app.engine.connect() as db:
        division = db.execute(
            select(org_units.c.code, org_units.c.name_en)
            .where(org_units.c.level == "division")
            .order_by(org_units.c.code)
            .limit(1)
        ).one()
    logins = []
    for officer_id, role, divisions, note in (
        ("admin", Role.ADMIN, [], "every division; reads the audit log"),
        ("div.officer", Role.DIVISION_OFFICER, [division.code], f"{division.name_en} only"),
        ("auditor", Role.AUDITOR, [], "reads everything, changes nothing"),
    ):
        with contextlib.suppress(AlreadyExists):  # served before, over the same database
            add_officer(
                AddOfficer(officer_id, officer_id, role, divisions, DEMO_PASSWORD),
                app.uow(),
                app.clock,
                hasher,
            )
        logins.append(DemoLogin(f"officer ({role.value})", f"{officer_id} / {DEMO_PASSWORD}", note))
    return logins


def _consumers(app: App) -> list[DemoLogin]:
    logins = []
    with app.engine.connect() as db:
        for state, note in (
            ("disconnected", "cut off: recharge and watch supply come back"),
            ("connected", "supply on"),
            ("grace", "balance zero: the cut is scheduled"),
        ):
            row = db.execute(
                select(accounts.c.mobile, accounts.c.account_id)
                .where(accounts.c.supply_state == state)
                .order_by(accounts.c.account_id)
                .limit(1)
            ).first()
            if row is not None:
                logins.append(
                    DemoLogin(f"consumer ({state})", row.mobile, f"{row.account_id}: {note}")
                )
    return logins


class _Pump:
    """The outside world's side of the outbox, every half second: SMS printed on the
    console, relay commands acknowledged by meters that are online."""

    def __init__(self, app: App, say: Callable[[str], None]) -> None:
        self._app, self._say = app, say
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-pump", daemon=True)

    def start(self) -> _Pump:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            dispatch_outbox("sms", self._sms, self._app.uow())
            acks: list[RecordRelayAck] = []
            dispatch_outbox("relay_command", _collect(acks), self._app.uow())
            for ack in acks:
                record_relay_ack(ack, self._app.uow(), self._app.clock, self._app.policies)
                self._say(
                    f"meter of {ack.account_id}: relay {'closed' if ack.is_closed else 'open'}"
                )

    def _sms(self, message: OutboxMessage) -> None:
        payload: dict[str, Any] = dict(message.payload)
        self._say(f"SMS to {payload.get('mobile')}: {payload.get('text')}")


def _collect(acks: list[RecordRelayAck]) -> Callable[[OutboxMessage], None]:
    """A relay command 'sent' to a meter that is online: its ack, to record after."""

    def send(message: OutboxMessage) -> None:
        acks.append(
            RecordRelayAck(message.account_id, message.payload.get("action") == "reconnect")
        )

    return send


def serve_demo_portal(
    database_url: str, console: Console, *, port: int, seconds: float | None
) -> None:
    secret = secrets.token_hex(16)
    settings = Settings(
        database_url=database_url, session_secret=secret, gateway_webhook_secret=secret
    )
    app = bootstrap(settings)
    clock = _end_of_simulation(app)
    app = bootstrap(settings, clock)
    url = f"http://127.0.0.1:{port}"
    gateway = SimulatedGateway(
        secret.encode(),
        clock,
        http_delivery(url + WEBHOOK_PATH),
        pay_page=url + "/simulated-gateway/pay",
    )
    logins = _consumers(app) + _officers(app, Argon2Hasher())
    server = BackgroundServer(create_api(app, settings, gateway), port=port).start()
    pump = _Pump(app, lambda line: console.print(f"[dim]{line}[/]")).start()
    table = Table(title=f"The portal: {url}/portal/  (officers: {url}/portal/officer/login)")
    for column in ("who", "log in with", "what you will see"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.who, login.login, login.note)
    console.print(table)
    console.print(
        "Consumers log in with the mobile number; the one-time code arrives by 'SMS' below. "
        f"The clock stands at {clock.now():%d %b %Y %H:%M} UTC, the end of the simulated days. "
        + ("Ctrl-C stops." if seconds is None else f"Serving for {seconds:g} s.")
    )
    try:
        threading.Event().wait(seconds)
    except KeyboardInterrupt:
        pass
    finally:
        pump.stop()
        server.stop()
