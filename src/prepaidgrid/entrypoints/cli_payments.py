"""`prepaidgrid payments`: reconcile a channel's settlement file, follow one payment's life."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from prepaidgrid.adapters.db.payment_read_models import SqlPaymentHistory, SqlSettlements
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.domain.units import IST, format_rupees, group_indian
from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error
from prepaidgrid.entrypoints.cli_ops import parse_day
from prepaidgrid.entrypoints.cli_options import AtOption, DbOption, JsonOption, app_for, emit_json
from prepaidgrid.services.payment_timeline import PaymentTimeline, payment_timeline
from prepaidgrid.services.reconciliation import (
    ImportSettlement,
    ReconciliationReport,
    Totals,
    import_settlement,
)

payments_app = typer.Typer(
    help="Payments: reconcile a channel's settlement file; follow one payment's life.",
    no_args_is_help=True,
)

EXIT_DIFFERENCES = 1

Channel = Annotated[PaymentChannel, typer.Option("--channel", help="Payment channel.")]
Reference = Annotated[str, typer.Option("--reference", help="The channel's payment reference.")]


@payments_app.command("reconcile")
@exits_on_domain_error
def payments_reconcile(
    channel: Channel,
    day: Annotated[str, typer.Option("--day", help="The IST day the file settles, YYYY-MM-DD.")],
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            exists=True,
            dir_okay=False,
            readable=True,
            help="The channel's settlement CSV: reference, amount_paise or amount (rupees), "
            "optional status.",
        ),
    ],
    as_json: JsonOption = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when the file and the ledger differ.")
    ] = False,
    db: DbOption = None,
    at: AtOption = None,
) -> None:
    """Import a settlement file for one IST day and list where it and the ledger differ.

    The same file imported again gets the stored answer of its first import.
    """
    the_day, content = parse_day(day), file.read_bytes()
    app = app_for(db, at)
    try:
        report = import_settlement(
            ImportSettlement(channel, the_day, content, file.name),
            SqlSettlements(app.engine),
            app.clock,
        )
    finally:
        app.engine.dispose()
    if as_json:
        emit_json(report.as_dict())
    else:
        _print_report(report)
    if strict and report.has_differences:
        raise typer.Exit(EXIT_DIFFERENCES)


@payments_app.command("show")
@exits_on_domain_error
def payments_show(
    channel: Channel,
    reference: Reference,
    as_json: JsonOption = False,
    db: DbOption = None,
    at: AtOption = None,
) -> None:
    """One payment's life: channel, ledger, SMS, reconnect; and where it waits, if it does."""
    payment = PaymentRef(channel, reference)
    app = app_for(db, at)
    try:
        with app.engine.connect() as connection:
            connection.execution_options(prepaidgrid_read_only=True)  # SQLite: beside the writer
            with connection.begin():
                history = SqlPaymentHistory(connection)
                timeline = payment_timeline(history, payment, app.clock.now())
    finally:
        app.engine.dispose()
    if as_json:
        emit_json(timeline.as_dict())
    else:
        _print_timeline(timeline)


def _print_report(report: ReconciliationReport) -> None:
    console = Console()
    when = report.imported_at.astimezone(IST).strftime("%Y-%m-%d %H:%M IST")
    console.print(
        f"[bold]{report.channel.value}[/bold] settlement of {report.settlement_day} "
        f"(file sha256 {report.file_sha256[:12]}…)"
    )
    if report.already_imported:
        console.print(f"already imported {when}: this is the stored result of that import")
    else:
        console.print(f"imported {when}")
    c = report.comparison
    totals = Table(title="totals")
    totals.add_column("side")
    totals.add_column("count", justify="right")
    totals.add_column("amount", justify="right", no_wrap=True)
    rows: list[tuple[str, Totals]] = [
        ("ledger: credited", c.ledger),
        ("ledger: reversed", c.ledger_reversed),
        ("file: settled", c.file),
        ("file: failed or refunded", c.file_not_settled),
        ("matched", c.matched),
    ]
    for label, side in rows:
        totals.add_row(label, group_indian(side.count), format_rupees(side.total_paise))
    totals.add_row("file − ledger", "", format_rupees(c.file.total_paise - c.ledger.total_paise))
    console.print(totals)
    if report.findings:
        findings = Table(title="findings")
        for column in ("finding", "reference", "ledger", "file", "line", "note"):
            is_money = column in ("ledger", "file")
            findings.add_column(column, justify="right" if is_money else "left", no_wrap=is_money)
        for f in report.findings:
            findings.add_row(
                f.kind.value.replace("_", " "),
                f.reference,
                "" if f.ledger_paise is None else format_rupees(f.ledger_paise),
                "" if f.file_paise is None else format_rupees(f.file_paise),
                ", ".join(str(n) for n in f.lines),
                f.note,
            )
        console.print(findings)
    differences = len(report.differences)
    if differences:
        console.print(f"[bold red]{group_indian(differences)} differences[/bold red]")
    else:
        console.print("[green]no differences: the file and the ledger agree[/green]")


def _print_timeline(timeline: PaymentTimeline) -> None:
    console = Console()
    amount = "" if timeline.amount_paise is None else f", {format_rupees(timeline.amount_paise)}"
    account = "" if timeline.account_id is None else f", account {timeline.account_id}"
    console.print(
        f"[bold]{timeline.payment.channel.value}:{timeline.payment.reference}[/bold]"
        f"{account}{amount}, status {timeline.status}"
    )
    table = Table()
    table.add_column("at (IST)", no_wrap=True)
    table.add_column("stage")
    table.add_column("source")
    table.add_column("detail")
    for stage in timeline.stages:
        at = stage.at.astimezone(IST).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(at, stage.name, stage.source, stage.detail)
    console.print(table)
    stuck = timeline.stuck
    if stuck is None:
        console.print("[green]finished: nothing more is to happen[/green]")
        return
    since = stuck.since.astimezone(IST).strftime("%Y-%m-%d %H:%M:%S IST")
    console.print(
        f"[bold yellow]waiting[/bold yellow] at {stuck.stage} for {stuck.waiting_for}, "
        f"since {since} ({_duration(stuck.waited)})"
    )


def _duration(waited: timedelta) -> str:
    minutes = int(waited.total_seconds()) // 60
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min"]
    return " ".join(part for part in parts if part)
