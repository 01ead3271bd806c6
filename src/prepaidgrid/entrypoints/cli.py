"""The `prepaidgrid` command line: one Typer app with a sub-app per concern."""

from __future__ import annotations

import typer

from prepaidgrid.entrypoints.cli_supply import supply_app
from prepaidgrid.entrypoints.cli_tariff import tariff_app

app = typer.Typer(
    help="prepaidgrid: smart prepaid electricity metering for a DISCOM.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(tariff_app, name="tariff")
app.add_typer(supply_app, name="supply")


def main() -> None:
    app()
