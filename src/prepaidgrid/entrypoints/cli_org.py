"""`prepaidgrid org ...`: the DISCOM > circle > division > subdivision tree."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.tree import Tree

from prepaidgrid.domain.accounts import OrgLevel, OrgUnit
from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error
from prepaidgrid.entrypoints.cli_options import DbOption, JsonOption, app_for, emit_json
from prepaidgrid.services.onboarding import add_org_units, list_org_units

org_app = typer.Typer(
    help="The organisation: DISCOM > circle > division > subdivision.", no_args_is_help=True
)


@org_app.command("add")
@exits_on_domain_error
def org_add(
    code: Annotated[str, typer.Option(help="Unit code, e.g. DANAPUR-1.")],
    level: Annotated[OrgLevel, typer.Option(help="discom, circle, division or subdivision.")],
    name: Annotated[str, typer.Option(help="English name.")],
    name_hi: Annotated[str, typer.Option("--name-hi", help="Hindi name.")] = "",
    parent: Annotated[
        str | None, typer.Option(help="Code of the unit one level up (none for a DISCOM).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Add one unit under its parent."""
    app = app_for(db)
    add_org_units([OrgUnit(code, level, name, name_hi, parent)], app.uow())
    typer.echo(f"{level.value} {code} added")


@org_app.command("list")
@exits_on_domain_error
def org_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show the tree."""
    units = list_org_units(app_for(db).uow())
    if as_json:
        emit_json(
            [
                {
                    "code": u.code,
                    "level": u.level.value,
                    "name_en": u.name_en,
                    "name_hi": u.name_hi,
                    "parent_code": u.parent_code,
                }
                for u in units
            ]
        )
        return
    nodes: dict[str | None, Tree] = {None: Tree("organisation")}
    for unit in units:  # parents come before children (ordered by level)
        parent = nodes.get(unit.parent_code, nodes[None])
        nodes[unit.code] = parent.add(f"{unit.code}  {unit.name_en}  {unit.name_hi}".rstrip())
    Console().print(nodes[None])
