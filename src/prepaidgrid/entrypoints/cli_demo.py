"""`prepaidgrid demo`: the simulated city on the embedded broker, or the scripted month.

By default: Patna's 13 divisions at a small scale, their meters on an embedded MQTT broker,
the head-end, billing, cuts and recharges for three simulated days. `--scripted` plays the
hand-written July 2025 month of five consumers instead (no broker, every step printed).
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.engine import make_engine
from prepaidgrid.adapters.db.migrate import upgrade
from prepaidgrid.adapters.db.verify import verify_ledger
from prepaidgrid.adapters.headend.broker import free_port
from prepaidgrid.bootstrap import bootstrap
from prepaidgrid.config import Settings
from prepaidgrid.domain.units import IST, format_rupees
from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error
from prepaidgrid.entrypoints.cli_headend import port_is_free
from prepaidgrid.entrypoints.cli_report import print_report_table
from prepaidgrid.entrypoints.cli_simulate import fresh_sqlite, print_report, run_simulation
from prepaidgrid.entrypoints.demo_month import CONSUMERS, MONTH, DemoLog, DemoMonth, ist
from prepaidgrid.entrypoints.demo_portal import serve_demo_portal
from prepaidgrid.entrypoints.simulation import SimulationConfig
from prepaidgrid.reports.catalogue import read_report
from prepaidgrid.reports.model import Month

DEMO_DB = "prepaidgrid-demo.db"
SEPT_2021_END = datetime(2021, 10, 1, tzinfo=IST)  # the simulated month's reports are as of then


@exits_on_domain_error
def demo(
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL (default: a fresh ./prepaidgrid-demo.db)."),
    ] = None,
    scripted: Annotated[
        bool, typer.Option("--scripted", help="Play the scripted July 2025 month instead.")
    ] = False,
    days: Annotated[
        int | None,
        typer.Option(min=1, max=31, help="Simulated days (default 3; scripted: 31)."),
    ] = None,
    scale: Annotated[
        float, typer.Option(min=0.0001, max=1.0, help="Share of Patna's meters to simulate.")
    ] = 0.001,
    serve: Annotated[
        bool,
        typer.Option(help="Then serve the portal over the result, with demo logins printed."),
    ] = True,
    port: Annotated[
        int, typer.Option(help="The portal's port on 127.0.0.1 (taken: another).")
    ] = 8000,
    serve_for: Annotated[
        float | None, typer.Option(help="Stop serving after this many seconds (default: Ctrl-C).")
    ] = None,
) -> None:
    """Run Patna's simulated meters through the whole platform and verify the ledger; then
    serve the portal over the populated database (consumers and officers), until Ctrl-C."""
    console = Console()
    database = db or fresh_sqlite(DEMO_DB)
    if scripted:
        _scripted_month(database, days or 31, console)
    else:
        _simulated_city(database, days or 3, scale, console)
    if serve:
        chosen = port if port_is_free(port) else free_port()
        if chosen != port:
            console.print(f"127.0.0.1:{port} is taken: serving on {chosen} instead")
        serve_demo_portal(database, console, port=chosen, seconds=serve_for)


def _simulated_city(db: str, days: int, scale: float, console: Console) -> None:
    sms_log = Path("prepaidgrid-demo-sms.jsonl")
    sms_log.unlink(missing_ok=True)
    console.rule(
        f"prepaidgrid demo: Patna's 13 divisions at scale {scale}, {days} days from "
        "Wed 1 Sep 2021, embedded MQTT broker, tariff bihar-2021-22, profile bihar"
    )
    config = SimulationConfig("patna-2021-09", scale, days, None, None, sms_log)
    report = run_simulation(config, db, console)
    print_report(report, console)
    # the officers' division report of the simulated month (docs/reports.md)
    engine = make_engine(db)
    try:
        month = Month.parse("2021-09")
        print_report_table(read_report(engine, "divisions", month, None, SEPT_2021_END), console)
    finally:
        engine.dispose()
    samples = [json.loads(line) for line in sms_log.read_text(encoding="utf-8").splitlines()]
    for template, language in (
        ("zero_balance", "hi"),
        ("disconnected", "en"),
        ("reconnected", "hi"),
    ):
        sample = next(
            (m for m in samples if m["template"] == template and m["language"] == language),
            None,
        )
        if sample:
            console.print(f"  SMS ({language}, {template}): {sample['text']}")
    command = "prepaidgrid" if shutil.which("prepaidgrid") else ".venv/bin/prepaidgrid"
    console.print(f"database: {db}; every SMS: {sms_log}")
    console.print(f"the scripted month, every step printed: {command} demo --scripted")
    if not report.ledger_ok:
        raise typer.Exit(1)


def _scripted_month(db: str, days: int, console: Console) -> None:
    settings = Settings(database_url=db)
    upgrade(make_engine(settings.database_url))
    clock = SettableClock(ist(MONTH, 0))
    app = bootstrap(settings, clock)
    log = DemoLog()
    console.rule(
        f"prepaidgrid demo: {days} days of July 2025, tariff bihar-2025-26, "
        "profile bihar (grace 1 day, cuts 10:00-13:00, not on Sundays/holidays)"
    )

    def show(at: datetime, account_id: str, text: str) -> None:
        local = at.astimezone(IST).strftime("%a %d %b %H:%M")
        console.print(f"[dim]{local}[/]  [bold]{account_id:<10}[/] {text}")

    log.on_event = show
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("simulating days", total=days)
        DemoMonth(app, clock, log).run(days, on_day=lambda _day: progress.advance(task))

    table = Table(title="Accounts at the end of the demo")
    for column in ("account", "category", "balance", "arrears", "supply", "story"):
        table.add_column(column)
    for consumer in CONSUMERS:
        with app.uow() as uow:
            connection = uow.connections.get(consumer.account_id)
        table.add_row(
            consumer.account_id,
            consumer.category,
            format_rupees(connection.wallet_paise),
            format_rupees(connection.arrears_paise),
            connection.supply.state.value,
            consumer.story,
        )
    console.print(table)
    cuts = sum(1 for c in log.relay_commands if c.payload["action"] == "disconnect")
    console.print(
        f"relay commands: {len(log.relay_commands)} ({cuts} cuts); "
        f"SMS queued and sent: {len(log.sms)}"
    )
    for template, language in (
        ("zero_balance", "hi"),
        ("reconnected", "hi"),
        ("recharge_received", "en"),
    ):
        sample = next(
            (
                m
                for m in reversed(log.sms)
                if m.payload["template"] == template and m.payload["language"] == language
            ),
            None,
        )
        if sample:
            console.print(f"  SMS ({language}) to {sample.account_id}: {sample.payload['text']}")
    report = verify_ledger(app.engine)
    verdict = "[green]all invariants hold[/]" if report.ok else "[red]VIOLATIONS[/]"
    console.print(
        f"ledger verify: {report.journals} journals, {report.postings} postings: {verdict}"
    )
    command = "prepaidgrid" if shutil.which("prepaidgrid") else ".venv/bin/prepaidgrid"
    console.print(f"database: {settings.database_url}")
    console.print(
        f"look closer: {command} account show --account RAMESH-002 --db {settings.database_url}"
    )
    if not report.ok:
        raise typer.Exit(1)
