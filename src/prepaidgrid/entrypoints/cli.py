"""The `prepaidgrid` command line: one Typer app with a sub-app per concern."""

from __future__ import annotations

import typer

from prepaidgrid.entrypoints.cli_api import api
from prepaidgrid.entrypoints.cli_complaints import complaints_app
from prepaidgrid.entrypoints.cli_demo import demo
from prepaidgrid.entrypoints.cli_headend import headend, serve
from prepaidgrid.entrypoints.cli_ledger import db_app, ledger_app
from prepaidgrid.entrypoints.cli_meterdata import bill, bill_day, true_up, usage_app
from prepaidgrid.entrypoints.cli_notify import notify_app
from prepaidgrid.entrypoints.cli_officers import officer_app
from prepaidgrid.entrypoints.cli_ops import account_app, charge_app, recharge_app, safe_mode_app
from prepaidgrid.entrypoints.cli_org import org_app
from prepaidgrid.entrypoints.cli_payments import payments_app
from prepaidgrid.entrypoints.cli_report import report_app
from prepaidgrid.entrypoints.cli_simulate import simulate
from prepaidgrid.entrypoints.cli_supply import supply_app
from prepaidgrid.entrypoints.cli_tariff import tariff_app
from prepaidgrid.entrypoints.counter_client import counter_app

app = typer.Typer(
    help="prepaidgrid: smart prepaid electricity metering for a DISCOM.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("demo")(demo)
app.command("api")(api)
app.command("headend")(headend)
app.command("serve")(serve)
app.command("simulate")(simulate)
app.command("bill")(bill)
app.command("true-up")(true_up)
app.command("bill-day")(bill_day)
app.add_typer(usage_app, name="usage")
app.add_typer(db_app, name="db")
app.add_typer(ledger_app, name="ledger")
app.add_typer(tariff_app, name="tariff")
app.add_typer(supply_app, name="supply")
app.add_typer(org_app, name="org")
app.add_typer(officer_app, name="officer")
app.add_typer(complaints_app, name="complaints")
app.add_typer(account_app, name="account")
app.add_typer(recharge_app, name="recharge")
app.add_typer(charge_app, name="charge")
app.add_typer(safe_mode_app, name="safe-mode")
app.add_typer(payments_app, name="payments")
app.add_typer(report_app, name="report")
app.add_typer(counter_app, name="counter")
app.add_typer(notify_app, name="notify")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
