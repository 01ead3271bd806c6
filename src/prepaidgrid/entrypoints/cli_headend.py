"""`prepaidgrid headend`: run one head-end worker against a broker."""

from __future__ import annotations

import json
import logging
import os
from typing import Annotated

import typer

from prepaidgrid.adapters.headend.worker import HeadEndWorker, WorkerConfig
from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error
from prepaidgrid.entrypoints.cli_options import DbOption, app_for


@exits_on_domain_error
def headend(
    mqtt_url: Annotated[
        str,
        typer.Option("--mqtt-url", envvar="PREPAIDGRID_MQTT_URL", help="mqtt://host:port"),
    ] = "mqtt://127.0.0.1:1883",
    client_id: Annotated[
        str, typer.Option(help="Stable per worker: the broker keeps its session across restarts.")
    ] = "prepaidgrid-headend-1",
    group: Annotated[
        str, typer.Option(help="Shared-subscription group; '' for a plain subscription.")
    ] = "headend",
    seconds: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: run until ^C).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Consume meter messages (decode, dedupe, persist) and publish relay commands."""
    logging.basicConfig(level=os.environ.get("PREPAIDGRID_LOG_LEVEL", "WARNING"))
    app = app_for(db)
    config = WorkerConfig(mqtt_url, client_id, group or None)
    stats = HeadEndWorker(config, app.uow, app.clock, app.policies).run_for(seconds)
    typer.echo(json.dumps(stats.__dict__, sort_keys=True))
