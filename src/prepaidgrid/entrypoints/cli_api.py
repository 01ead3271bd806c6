"""`prepaidgrid api`: the HTTP API alone, in N worker processes (behind a reverse proxy)."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error
from prepaidgrid.entrypoints.cli_options import DbOption, app_for


@exits_on_domain_error
def api(
    host: Annotated[str, typer.Option(help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="The port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    db: DbOption = None,
) -> None:
    """Serve the REST API (/api/v1, OpenAPI at /openapi.json). Secrets come from the
    environment (PREPAIDGRID_GATEWAY_WEBHOOK_SECRET, PREPAIDGRID_BBPS_API_KEY, ...;
    docs/payments.md); a channel without its secret answers 503."""
    if db:
        os.environ["PREPAIDGRID_DATABASE_URL"] = db
    app_for(db)  # refuse to start on a database that is not migrated (a one-line error)
    uvicorn.run(
        "prepaidgrid.entrypoints.api.server:build",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
    )
