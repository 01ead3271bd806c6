"""`prepaidgrid officer ...`: officers' portal logins (admin, division officer, cashier,
auditor), and what they did (the audit log)."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from prepaidgrid.adapters.passwords import Argon2Hasher
from prepaidgrid.domain.access import Role
from prepaidgrid.domain.units import IST
from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error
from prepaidgrid.entrypoints.cli_options import DbOption, JsonOption, app_for, emit_json
from prepaidgrid.services.access import AddOfficer, add_officer

officer_app = typer.Typer(help="Officers' portal logins and the audit log.", no_args_is_help=True)


@officer_app.command("add")
@exits_on_domain_error
def officer_add(
    username: Annotated[str, typer.Option(help="Login name, e.g. ravi.kumar.")],
    role: Annotated[Role, typer.Option(help="admin, division_officer, cashier or auditor.")],
    name: Annotated[str, typer.Option(help="Full name, shown on pages.")] = "",
    division: Annotated[
        list[str] | None,
        typer.Option(help="A division the officer acts in (repeat for several)."),
    ] = None,
    password_env: Annotated[
        str | None,
        typer.Option(
            "--password-env",
            help="Read the password from this environment variable instead of a prompt.",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Add an officer; the password (12+ characters) is asked for twice, never echoed."""
    if password_env:
        password = os.environ.get(password_env, "")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    app = app_for(db)
    officer = add_officer(
        AddOfficer(username, name, role, division or [], password),
        app.uow(),
        app.clock,
        Argon2Hasher(),
    )
    scope = ", ".join(sorted(officer.divisions)) if officer.scope is not None else "every division"
    typer.echo(f"officer {officer.officer_id} added: {officer.role.value}, {scope}")


@officer_app.command("audit")
@exits_on_domain_error
def officer_audit(
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Newest entries to show.")] = 50,
    actor: Annotated[str | None, typer.Option(help="Only this officer's actions.")] = None,
    target: Annotated[str | None, typer.Option(help="Only actions on this account.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The audit log, newest first."""
    app = app_for(db)
    with app.new_reader() as uow:
        entries = uow.access.audit_entries(limit, actor=actor, target=target)
    if as_json:
        emit_json(
            [
                {
                    "at": e.at.isoformat(),
                    "actor": e.actor,
                    "action": e.action,
                    "target": e.target,
                    "reason": e.reason,
                    "detail": dict(e.detail),
                }
                for e in entries
            ]
        )
        return
    table = Table(title="Audit log (newest first)")
    for column in ("at (IST)", "officer", "action", "target", "reason"):
        table.add_column(column)
    for e in entries:
        at = e.at.astimezone(IST).strftime("%d-%m-%Y %H:%M:%S")
        table.add_row(at, e.actor, e.action, e.target, e.reason)
    Console().print(table)
