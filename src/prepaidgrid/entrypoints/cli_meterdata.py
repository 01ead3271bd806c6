"""`prepaidgrid usage` and `prepaidgrid bill-day`: daily consumption from meter data, billed."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import typer

from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error
from prepaidgrid.entrypoints.cli_ops import parse_day
from prepaidgrid.entrypoints.cli_options import AtOption, DbOption, app_for, emit_json
from prepaidgrid.services.meter_usage import bill_metered_day, compute_daily_usage

usage_app = typer.Typer(
    help="Daily consumption per account from meter data (validate, estimate, edit).",
    no_args_is_help=True,
)

Day = Annotated[str, typer.Option("--day", help="The IST day, YYYY-MM-DD.")]


@usage_app.command("compute")
@exits_on_domain_error
def usage_compute(day: Day, db: DbOption = None, at: AtOption = None) -> None:
    """Compute (or recompute, while unbilled) every metered account's use on one day."""
    app = app_for(db, at)
    run = compute_daily_usage(parse_day(day), app.uow(), app.clock, tariffs=app.tariffs)
    emit_json(dataclasses.asdict(run))


@usage_app.command("show")
@exits_on_domain_error
def usage_show(
    day: Day,
    account: Annotated[
        str | None, typer.Option("--account", help="Only this account.", show_default=False)
    ] = None,
    db: DbOption = None,
) -> None:
    """The stored daily usage rows of one day."""
    app = app_for(db)
    the_day = parse_day(day)
    with app.uow() as uow:
        if account is None:
            rows = uow.meter_data.daily_usage_on(the_day)
        else:
            rows = uow.meter_data.daily_usage_of(account, the_day, the_day)
    emit_json([dataclasses.asdict(row) for row in rows])


@exits_on_domain_error
def bill_day(day: Day, db: DbOption = None, at: AtOption = None) -> None:
    """Post the daily charge of every account with a usage row for the day (once each)."""
    app = app_for(db, at)
    run = bill_metered_day(parse_day(day), app.new_uow, app.clock, app.tariffs, app.policies)
    emit_json(dataclasses.asdict(run))
