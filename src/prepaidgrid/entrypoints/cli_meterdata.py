"""`prepaidgrid usage`, `bill` and `bill-day`: daily consumption from meter data, billed."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.units import IST, format_rupees
from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error
from prepaidgrid.entrypoints.cli_ops import parse_day
from prepaidgrid.entrypoints.cli_options import (
    AtOption,
    DbOption,
    JsonOption,
    app_for,
    emit_json,
)
from prepaidgrid.services.billing_run import DEFAULT_PARTITION_SIZE, bill_days
from prepaidgrid.services.meter_usage import bill_metered_day, compute_daily_usage
from prepaidgrid.services.true_up import true_up_month

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


@exits_on_domain_error
def bill(
    day: Annotated[
        str | None,
        typer.Option("--day", help="The IST day to bill (default: yesterday).", show_default=False),
    ] = None,
    through: Annotated[
        str | None,
        typer.Option(
            "--through",
            help="Catch up: bill every day from --day through this one, oldest first.",
            show_default=False,
        ),
    ] = None,
    partition_size: Annotated[
        int, typer.Option(min=1, help="Accounts per transaction (a partition).")
    ] = DEFAULT_PARTITION_SIZE,
    as_json: JsonOption = False,
    db: DbOption = None,
    at: AtOption = None,
) -> None:
    """The daily billing run: charge every prepaid account's day once, whatever happens.

    Re-running a day posts nothing new; a run killed at any moment resumes where it stopped.
    """
    app = app_for(db, at)
    yesterday = app.clock.now().astimezone(IST).date() - timedelta(days=1)
    first = parse_day(day) if day else yesterday
    last = parse_day(through) if through else first
    if last < first:
        raise InvalidInput(f"--through {last} is before --day {first}")
    if last > yesterday:
        raise InvalidInput(
            f"{last} is not over yet in IST (the latest day that can be billed is {yesterday})"
        )
    with Progress(
        TextColumn("billing {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=as_json,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def started(the_day: date, accounts: int) -> None:
            tasks["current"] = progress.add_task(the_day.isoformat(), total=accounts)

        def billed(accounts: int) -> None:
            progress.advance(tasks["current"], accounts)

        runs = bill_days(
            first,
            last,
            app.new_uow,
            app.clock,
            app.tariffs,
            app.policies,
            partition_size=partition_size,
            new_reader=app.new_reader,
            on_accounts=started,
            on_billed=billed,
        )
    if as_json:
        emit_json([run.as_dict() for run in runs])
        return
    table = Table(title="billing run")
    for column in ("day", "billed", "charged", "entered grace", "skipped", "no usage"):
        table.add_column(column, justify="right" if column != "skipped" else "left")
    for run in runs:
        table.add_row(
            run.day.isoformat(),
            f"{run.billed:,}",
            format_rupees(run.charged_paise),
            f"{run.entered_grace:,}",
            ", ".join(f"{reason} {count:,}" for reason, count in run.skipped.items()) or "none",
            f"{run.without_usage:,}",
        )
    Console().print(table)


@exits_on_domain_error
def true_up(
    month: Annotated[str, typer.Option("--month", help="The month, YYYY-MM.")],
    db: DbOption = None,
    at: AtOption = None,
) -> None:
    """Settle a month's estimated days against the reads that have arrived since (once)."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        raise InvalidInput(f"--month must look like 2025-07, got {month!r}") from None
    app = app_for(db, at)
    run = true_up_month(first, app.new_uow, app.clock, app.tariffs, app.policies)
    emit_json(run.as_dict())
