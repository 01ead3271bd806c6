"""`prepaidgrid complaints ...`: the escalation sweep, and complaints listed or shown with
their diagnosis (read as an auditor: every division, no moves)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from prepaidgrid.adapters.db.complaint_read_model import ComplaintFilter, SqlComplaintList
from prepaidgrid.domain.access import Officer, Role
from prepaidgrid.domain.complaints import ComplaintCategory, ComplaintStatus, level_name
from prepaidgrid.domain.units import IST, format_rupees
from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error
from prepaidgrid.entrypoints.cli_options import AtOption, DbOption, JsonOption, app_for, emit_json
from prepaidgrid.services.complaint_desk import complaint_case, escalate_overdue

complaints_app = typer.Typer(
    help="Consumers' complaints: escalation, list, show.", no_args_is_help=True
)

READER = Officer("cli", "Command line", Role.AUDITOR, frozenset())


@complaints_app.command("escalate")
@exits_on_domain_error
def complaints_escalate(
    db: DbOption = None, at: AtOption = None, as_json: JsonOption = False
) -> None:
    """Escalate every overdue unfinished complaint to the level its lateness has reached
    (once per level: running it again escalates nothing more), and tell the consumers."""
    app = app_for(db, at)
    try:
        done = escalate_overdue(app.uow, app.clock)
    finally:
        app.engine.dispose()
    if as_json:
        emit_json(
            [{"number": e.number, "account_id": e.account_id, "level": e.level} for e in done]
        )
        return
    for e in done:
        typer.echo(f"{e.number} ({e.account_id}) escalated to the {level_name(e.level)}")
    typer.echo(f"{len(done)} escalation(s)")


@complaints_app.command("list")
@exits_on_domain_error
def complaints_list(
    status: Annotated[ComplaintStatus | None, typer.Option(help="Only this status.")] = None,
    category: Annotated[ComplaintCategory | None, typer.Option(help="Only this category.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue ones.")] = False,
    division: Annotated[
        list[str] | None, typer.Option(help="Only this division (repeat for several).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 200,
    db: DbOption = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Complaints, unfinished and overdue first, then by due day."""
    app = app_for(db, at)
    now = app.clock.now()
    try:
        rows = SqlComplaintList(app.engine).complaints(
            division or None, ComplaintFilter(status, category, overdue), now, limit
        )
    finally:
        app.engine.dispose()
    if as_json:
        emit_json(
            [
                {
                    "number": r.complaint.number,
                    "account_id": r.complaint.account_id,
                    "division": r.division_code,
                    "category": r.complaint.category.value,
                    "status": r.complaint.status.value,
                    "due_on": r.complaint.due_on.isoformat(),
                    "is_overdue": r.is_overdue(now),
                    "escalation_level": r.complaint.escalation_level,
                }
                for r in rows
            ]
        )
        return
    table = Table(title="Complaints (overdue first)")
    for column in ("number", "account", "division", "category", "status", "due", "days left"):
        table.add_column(column)
    for r in rows:
        c = r.complaint
        table.add_row(
            c.number,
            c.account_id,
            r.division_code or "",
            c.category.value,
            c.status.value + (" (overdue)" if r.is_overdue(now) else ""),
            c.due_on.strftime("%d-%m-%Y"),
            str(r.days_left(now)) if c.is_open else "",
        )
    Console().print(table)


@complaints_app.command("show")
@exits_on_domain_error
def complaints_show(
    number: Annotated[str, typer.Argument(help="The complaint number, e.g. CMP-000123.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """One complaint with its history and its diagnosis."""
    app = app_for(db)
    try:
        case = complaint_case(number, READER, app.new_reader())
    finally:
        app.engine.dispose()
    c = case.complaint
    if as_json:
        emit_json(
            {
                "number": c.number,
                "account_id": c.account_id,
                "category": c.category.value,
                "status": c.status.value,
                "due_on": c.due_on.isoformat(),
                "escalation_level": c.escalation_level,
                "assigned_to": c.assigned_to,
                "resolution": c.resolution,
                "events": [
                    {
                        "at": e.at.isoformat(),
                        "kind": e.kind.value,
                        "actor": e.actor,
                        "status": e.to_status.value,
                        "note": e.note,
                    }
                    for e in case.events
                ],
                "diagnosis": None if case.diagnosis is None else case.diagnosis.as_json(),
            }
        )
        return
    console = Console()
    console.print(f"[bold]{c.number}[/bold] {c.category.value} · account {c.account_id}")
    console.print(f"status {c.status.value} · due {c.due_on:%d-%m-%Y} · level {c.escalation_level}")
    for e in case.events:
        at = e.at.astimezone(IST).strftime("%d-%m-%Y %H:%M")
        console.print(f"  {at} {e.kind.value} {e.to_status.value} by {e.actor}: {e.note}")
    d = case.diagnosis
    if d is None:
        return
    for note in d.notes:
        console.print(f"note: {note}")
    for p in d.payments:
        stuck = f"stuck after {p.stuck_stage}: {p.waiting_for}" if p.stuck_stage else "finished"
        console.print(f"payment {p.channel}:{p.reference} {p.status} · {stuck}")
    if d.supply is not None:
        s = d.supply
        console.print(
            f"supply {s.state} · balance {format_rupees(s.balance_paise)} · "
            f"{len(s.pending_commands)} command(s) pending"
        )
    if d.usage is not None:
        u = d.usage
        console.print(
            f"30 days: used {u.used_wh / 1000:.1f} kWh, "
            f"similar households {u.similar_wh / 1000:.1f} kWh"
        )
    if d.check_meter_on is not None:
        console.print(f"check meter visit {d.check_meter_on:%d-%m-%Y}")
    for change in d.contact_changes:
        console.print(f"{change.kind} changed {change.changed_at.astimezone(IST):%d-%m-%Y %H:%M}")
