"""Options shared by CLI commands: the database, the instant a command acts at, JSON output."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.bootstrap import App, bootstrap
from prepaidgrid.config import Settings
from prepaidgrid.domain.units import parse_instant

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="PREPAIDGRID_DATABASE_URL",
        help="Database URL: sqlite:///path.db (default ./prepaidgrid.db) or "
        "postgresql+psycopg://user@host/db",
        show_default=False,
    ),
]
AtOption = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="Act as if it were this instant (ISO 8601; no offset = Asia/Kolkata). Default: now.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def settings_for(db: str | None) -> Settings:
    return Settings(database_url=db) if db else Settings()


def app_for(db: str | None, at: str | None = None) -> App:
    clock = SettableClock(parse_instant(at)) if at else None
    return bootstrap(settings_for(db), clock)


def emit_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_default))


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
