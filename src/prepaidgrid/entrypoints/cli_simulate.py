"""`prepaidgrid simulate`: run a scenario's meter fleet against the platform, end to end."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from prepaidgrid.adapters.db.engine import make_engine
from prepaidgrid.adapters.db.migrate import upgrade
from prepaidgrid.bootstrap import bootstrap
from prepaidgrid.config import Settings
from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.units import IST, format_rupees
from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error
from prepaidgrid.entrypoints.simulation import Simulation, SimulationConfig, SimulationReport
from prepaidgrid.simulator import SCENARIO_NAMES

SIM_DB = "prepaidgrid-sim.db"


def fresh_sqlite(path: str) -> str:
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)
    return f"sqlite:///./{path}"


def run_simulation(
    config: SimulationConfig, db: str, console: Console, *, quiet: bool = False
) -> SimulationReport:
    """Migrate `db`, set the scenario up, run it with a progress bar, return the report."""
    settings = Settings(database_url=db)
    upgrade(make_engine(settings.database_url))
    simulation = Simulation(bootstrap(settings), config)
    hours = config.days * 24
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=quiet,
    ) as progress:
        setup = progress.add_task("opening accounts", total=None, status="")
        simulation.progress = lambda _at, text: progress.update(setup, status=text)
        simulation.setup()
        progress.remove_task(setup)
        task = progress.add_task("simulating", total=hours, status="")
        start = simulation.scenario.starts_at

        def on_progress(at: datetime, text: str) -> None:
            done = min(hours, (at - start).total_seconds() / 3600)
            local = at.astimezone(IST).strftime("%a %d %b %H:%M IST")
            progress.update(task, completed=done, status=f"{local}  {text}")

        simulation.progress = on_progress
        return simulation.run()


@exits_on_domain_error
def simulate(
    scenario: Annotated[
        str, typer.Option(help=f"Scenario: {', '.join(SCENARIO_NAMES)}.")
    ] = "patna-2021-09",
    scale: Annotated[
        float, typer.Option(min=0.0001, max=1.0, help="Share of the scenario's meters to run.")
    ] = 0.001,
    days: Annotated[int, typer.Option(min=1, max=62, help="Simulated days.")] = 3,
    db: Annotated[
        str | None,
        typer.Option("--db", help=f"Database URL (default: a fresh ./{SIM_DB})."),
    ] = None,
    mqtt_url: Annotated[
        str | None,
        typer.Option(
            "--mqtt-url",
            envvar="PREPAIDGRID_MQTT_URL",
            help="mqtt://host:port of a real broker (default: an embedded one).",
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Scenario seed (default: the scenario's).")
    ] = None,
    sms_log: Annotated[
        Path | None, typer.Option(help="Write every SMS sent to this file (JSON lines).")
    ] = None,
    upload_hours: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=24,
            help="Every meter uploads its blocks in one message this often (default: the "
            "scenario's mix, mostly a message per block). 8 makes a month at scale feasible.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Run simulated meters as MQTT clients against the head-end, billing and recharges."""
    if scenario not in SCENARIO_NAMES:
        raise InvalidInput(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIO_NAMES)}")
    console = Console(stderr=as_json)
    config = SimulationConfig(scenario, scale, days, mqtt_url, seed, sms_log, upload_hours)
    report = run_simulation(config, db or fresh_sqlite(SIM_DB), console)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), sort_keys=True, default=str))
    else:
        print_report(report, console)
    if not report.ledger_ok:
        raise typer.Exit(1)


def print_report(report: SimulationReport, console: Console) -> None:
    table = Table(title=f"{report.scenario} at scale {report.scale}: {report.days} days")
    table.add_column("what")
    table.add_column("figure", justify="right")
    rows: list[tuple[str, Any]] = [
        ("meters (divisions)", f"{report.meters:,} ({report.divisions})"),
        ("broker", report.broker),
        (
            "messages sent / stored",
            f"{report.messages_published:,} / "
            f"{report.messages_processed - report.messages_duplicate:,}",
        ),
        (
            "register reads / interval blocks",
            f"{report.register_reads:,} / {report.interval_blocks:,}",
        ),
        ("rejected", _pairs(report.rejected) or "none"),
        ("usage days by method", _pairs(report.usage_days)),
        ("billing", _pairs({k: v for k, v in report.billing.items() if isinstance(v, int)})),
        (
            "recharges",
            ", ".join(
                f"{channel} {v['count']:,} ({format_rupees(v['paise'])})"
                for channel, v in report.recharges.items()
            )
            or "none",
        ),
        ("supply changes", _pairs(report.supply_changes)),
        ("relay commands", _pairs(report.relay_commands)),
        ("SMS sent", f"{report.sms_sent:,}"),
        ("meter replacements", str(report.meter_replacements)),
        ("wall time", f"{report.wall_seconds} s"),
        (
            "ledger verify",
            "[green]all invariants hold[/]" if report.ledger_ok else "[red]FAILED[/]",
        ),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    console.print(table)


def _pairs(counts: dict[str, Any]) -> str:
    return ", ".join(f"{key} {value:,}" for key, value in sorted(counts.items()))
