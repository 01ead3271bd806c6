"""`prepaidgrid db upgrade` and `prepaidgrid ledger verify`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from prepaidgrid.adapters.db.engine import make_engine
from prepaidgrid.adapters.db.migrate import upgrade
from prepaidgrid.adapters.db.partitions import ensure_interval_partitions, months_ahead
from prepaidgrid.adapters.db.verify import verify_ledger
from prepaidgrid.domain.units import IST
from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error
from prepaidgrid.entrypoints.cli_options import (
    DbOption,
    JsonOption,
    app_for,
    emit_json,
    settings_for,
)

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
ledger_app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)


@db_app.command("upgrade")
@exits_on_domain_error
def db_upgrade(db: DbOption = None) -> None:
    """Create or migrate the schema (idempotent)."""
    settings = settings_for(db)
    revision = upgrade(make_engine(settings.database_url))
    typer.echo(f"database at revision {revision}: {settings.database_url}")


@db_app.command("partitions")
@exits_on_domain_error
def db_partitions(
    ahead: Annotated[
        int, typer.Option(min=0, max=24, help="Months after the current one to prepare.")
    ] = 2,
    db: DbOption = None,
) -> None:
    """PostgreSQL: create the monthly interval_blocks partitions through N months ahead
    (idempotent; `serve` runs it at start). SQLite does not partition: nothing to do."""
    app = app_for(db)
    through = months_ahead(app.clock.now().astimezone(IST).date(), ahead)
    try:
        created = ensure_interval_partitions(app.engine, through)
    finally:
        app.engine.dispose()
    if app.engine.dialect.name != "postgresql":
        typer.echo("SQLite keeps interval blocks in one table: no partitions to create")
    else:
        typer.echo(f"partitions through {through:%Y-%m}; created: {', '.join(created) or 'none'}")


@ledger_app.command("verify")
@exits_on_domain_error
def ledger_verify(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Prove every ledger invariant from the rows; exit 0 only if all hold."""
    report = verify_ledger(make_engine(settings_for(db).database_url))
    if as_json:
        emit_json(report.as_dict())
    else:
        table = Table(
            title=f"ledger verify: {report.journals} journals, {report.postings} postings"
        )
        table.add_column("check")
        table.add_column("result")
        table.add_column("examples")
        for check in report.checks:
            verdict = "[green]ok[/]" if check.ok else f"[red]{check.violations} violations[/]"
            table.add_row(check.description, verdict, "; ".join(map(",".join, check.examples)))
        Console().print(table)
    if not report.ok:
        raise typer.Exit(1)
