"""`prepaidgrid report`: the division MIS and its companions, as a table or a file."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error
from prepaidgrid.entrypoints.cli_options import AtOption, DbOption, app_for
from prepaidgrid.reports.catalogue import read_report
from prepaidgrid.reports.files import report_file
from prepaidgrid.reports.formats import Format, human_cell, is_total
from prepaidgrid.reports.model import Month, Report

report_app = typer.Typer(
    help="Reports: divisions (cuts, revenue after cuts, meters), collections, ageing, rollout.",
    no_args_is_help=True,
)

HIDDEN_IN_TABLE = frozenset({"discom", "circle", "division", "division_hi"})  # codes, Hindi
WIDE = 160

MonthOption = Annotated[
    str, typer.Option("--month", help="The IST calendar month, YYYY-MM (e.g. 2021-09).")
]
FormatOption = Annotated[
    Format,
    typer.Option("--format", help="table (for people), csv or json (paise), xlsx or pdf."),
]
OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        dir_okay=False,
        help="Write to this file (needed for xlsx and pdf).",
        show_default=False,
    ),
]


def run_report(
    name: str, month: str, fmt: Format, out: Path | None, db: str | None, at: str | None
) -> None:
    the_month = Month.parse(month)
    if fmt.is_binary and out is None:
        raise InvalidInput(
            f"--format {fmt.value} writes a binary file: give it --out FILE / "
            f"{fmt.value} के लिए --out FILE दें"
        )
    app = app_for(db, at)
    try:
        report = read_report(app.engine, name, the_month, None, app.clock.now())
    finally:
        app.engine.dispose()
    if fmt is Format.TABLE and out is None:
        print_report_table(report)
        return
    content = _plain(report).encode() if fmt is Format.TABLE else report_file(report, fmt)
    if out is None:
        typer.echo(content.decode(), nl=False)
        return
    out.write_bytes(content)
    typer.echo(f"{report.name} report for {report.month.label} written to {out}", err=True)


HELP = {
    "divisions": "Per division: connections cut, revenue from recharges after a cut, smart "
    "meters installed; circle and DISCOM totals follow their divisions (docs/reports.md).",
    "collections": "Credited payments per IST day of the month, by channel.",
    "ageing": "Connections below zero at the month's end (or now), by days below zero, per "
    "division.",
    "rollout": "Smart meters installed, removed and in service per division, month by month.",
}


def _report_command(name: str) -> None:
    """`prepaidgrid report NAME`: the four reports take the same options."""

    @exits_on_domain_error
    def command(
        month: MonthOption,
        fmt: FormatOption = Format.TABLE,
        out: OutOption = None,
        db: DbOption = None,
        at: AtOption = None,
    ) -> None:
        run_report(name, month, fmt, out, db, at)

    report_app.command(name, help=HELP[name])(command)


for _name in HELP:
    _report_command(_name)


def _table(report: Report) -> Table:
    table = Table(title=f"{report.title_en} — {report.month.label}")
    shown = [c for c in report.columns if c.key not in HIDDEN_IN_TABLE]
    for column in shown:
        table.add_column(
            column.title_en,
            justify="right" if column.is_number else "left",
            no_wrap=column.is_number,
        )
    for row in report.rows:
        table.add_row(
            *(human_cell(c, row.cells[report.columns.index(c)]) for c in shown),
            style="bold" if is_total(row) else None,
        )
    return table


def print_report_table(report: Report, console: Console | None = None) -> None:
    console = console or Console()
    if not console.is_terminal:  # a pipe or a file: not squeezed into 80 columns
        console = Console(width=WIDE)
    console.print(_table(report))
    for note in report.notes:
        console.print(f"[dim]{note}[/dim]")


def _plain(report: Report) -> str:
    console = Console(width=WIDE, record=True, file=io.StringIO())
    console.print(_table(report))
    return console.export_text()
