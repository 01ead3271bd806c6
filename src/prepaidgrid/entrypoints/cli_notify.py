"""`prepaidgrid notify`: send the due SMS and e-mail, queue a day's alerts, and show how
delivery stands (docs/notifications.md)."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from prepaidgrid.adapters.db.health_read_model import health_facts
from prepaidgrid.adapters.db.notification_repository import delivery_counts
from prepaidgrid.bootstrap import App
from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error
from prepaidgrid.entrypoints.cli_ops import parse_day
from prepaidgrid.entrypoints.cli_options import (
    AtOption,
    DbOption,
    JsonOption,
    app_for,
    emit_json,
    settings_for,
)
from prepaidgrid.entrypoints.logs import configure_logging
from prepaidgrid.entrypoints.portal.health import health_checks
from prepaidgrid.entrypoints.scheduler import NotificationDispatch
from prepaidgrid.services.alerts import queue_alerts

notify_app = typer.Typer(
    help="Notifications: send due SMS and e-mail, queue a day's alerts, delivery status.",
    no_args_is_help=True,
)

EXIT_FAILING = 1


def _dispatcher(app: App, parallel: int, poll: float) -> NotificationDispatch:
    if app.notifiers is None:  # bootstrap always builds them; a hand-made App may not
        raise typer.BadParameter("no notifiers are configured")
    return NotificationDispatch(app, app.notifiers, poll, parallel=parallel)


@notify_app.command("dispatch")
@exits_on_domain_error
def notify_dispatch(
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    seconds: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until ^C).")
    ] = None,
    poll: Annotated[float, typer.Option(help="Seconds between passes.")] = 5.0,
    as_json: JsonOption = False,
    db: DbOption = None,
    at: AtOption = None,
) -> None:
    """Send the SMS and e-mail that are due: quiet hours respected, failures retried with
    backoff. Safe to run beside `serve` and beside other dispatchers."""
    configure_logging()
    app = app_for(db, at)
    dispatcher = _dispatcher(app, settings_for(db).notify_parallel, poll)
    try:
        if once:
            dispatcher.tick()
        else:
            started = time.monotonic()
            dispatcher.start()
            try:
                while seconds is None or time.monotonic() - started < seconds:
                    time.sleep(0.5)
            except KeyboardInterrupt:
                pass
            finally:
                dispatcher.stop()
    finally:
        app.engine.dispose()
    last = dispatcher.last.as_dict() if dispatcher.last else {}
    if as_json:
        emit_json(last)
    else:
        typer.echo(f"last pass: {last or 'none'}")


@notify_app.command("alerts")
@exits_on_domain_error
def notify_alerts(
    day: Annotated[str, typer.Option("--day", help="The billed IST day, YYYY-MM-DD.")],
    as_json: JsonOption = False,
    db: DbOption = None,
    at: AtOption = None,
) -> None:
    """Queue a billed day's low-balance alerts and daily summaries (the nightly run does
    this by itself; running it again queues nothing twice)."""
    the_day = parse_day(day)
    app = app_for(db, at)
    try:
        run = queue_alerts(the_day, app.notify_uow, app.clock, new_reader=app.notify_reader)
    finally:
        app.engine.dispose()
    result = {
        "day": run.day.isoformat(),
        "low_balance": run.low_balance,
        "summaries": run.summaries,
    }
    if as_json:
        emit_json(result)
    else:
        typer.echo(
            f"{run.day}: {run.low_balance} low-balance and {run.summaries} daily-summary "
            "messages queued"
        )


@notify_app.command("status")
@exits_on_domain_error
def notify_status(as_json: JsonOption = False, db: DbOption = None, at: AtOption = None) -> None:
    """Deliveries by channel and state, and the health of each channel; exit 1 if one fails."""
    app = app_for(db, at)
    try:
        counts = delivery_counts(app.engine)
        checks = [
            c
            for c in health_checks(health_facts(app.engine), app.clock.now())
            if c.name in ("SMS gateway", "e-mail", "outbox")
        ]
    finally:
        app.engine.dispose()
    if as_json:
        emit_json(
            {
                "deliveries": counts,
                "checks": [
                    {"name": c.name, "ok": c.is_ok, "detail": c.detail, "since": c.since}
                    for c in checks
                ],
            }
        )
    else:
        for channel, by_status in sorted(counts.items()):
            states = ", ".join(f"{status} {n}" for status, n in sorted(by_status.items()))
            typer.echo(f"{channel}: {states}")
        for c in checks:
            typer.echo(f"{'ok  ' if c.is_ok else 'FAIL'} {c.name}: {c.detail}")
    if not all(c.is_ok for c in checks):
        raise typer.Exit(EXIT_FAILING)
