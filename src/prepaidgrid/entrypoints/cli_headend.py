"""`prepaidgrid headend`: one head-end worker against a broker; `prepaidgrid serve`: the
platform's long-lived parts, with the embedded broker unless a real one is configured."""

from __future__ import annotations

import json
import socket
from typing import Annotated

import typer

from prepaidgrid.adapters.db.leader import LeaderLock
from prepaidgrid.adapters.db.partitions import ensure_interval_partitions, months_ahead
from prepaidgrid.adapters.headend.broker import EMBEDDED_PORT, EmbeddedBroker
from prepaidgrid.adapters.headend.worker import HeadEndWorker, WorkerConfig
from prepaidgrid.bootstrap import App
from prepaidgrid.domain.units import IST
from prepaidgrid.entrypoints.api.app import create_api
from prepaidgrid.entrypoints.api.server import BackgroundServer, gateway_from_env
from prepaidgrid.entrypoints.cli_errors import exits_on_domain_error
from prepaidgrid.entrypoints.cli_options import DbOption, app_for, settings_for
from prepaidgrid.entrypoints.logs import configure_logging
from prepaidgrid.entrypoints.scheduler import (
    ComplaintEscalation,
    NightlyBilling,
    NotificationDispatch,
    OrderPolling,
)


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


SecondsOption = Annotated[
    float | None, typer.Option(help="Stop after this many seconds (default: run until ^C).")
]
MqttVersionOption = Annotated[
    int, typer.Option(help="5, or 3 for MQTT 3.1.1 (a broker without MQTT 5, like amqtt).")
]


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
    seconds: SecondsOption = None,
    mqtt_version: MqttVersionOption = 5,
    db: DbOption = None,
) -> None:
    """Consume meter messages (decode, dedupe, persist) and publish relay commands."""
    configure_logging()
    app = app_for(db)
    config = WorkerConfig(mqtt_url, client_id, group or None, mqtt_version=mqtt_version)
    stats = HeadEndWorker(config, app.uow, app.clock, app.policies).run_for(seconds)
    typer.echo(json.dumps(stats.__dict__, sort_keys=True))


@exits_on_domain_error
def serve(
    mqtt_url: Annotated[
        str | None,
        typer.Option(
            "--mqtt-url",
            envvar="PREPAIDGRID_MQTT_URL",
            help="A real broker (mqtt://host:port). Unset: an embedded broker is started.",
        ),
    ] = None,
    broker_port: Annotated[
        int, typer.Option(help="The embedded broker's port on 127.0.0.1.")
    ] = EMBEDDED_PORT,
    seconds: SecondsOption = None,
    billing: Annotated[
        bool, typer.Option(help="Run the nightly billing at 00:30 IST (catching up missed days).")
    ] = True,
    api_port: Annotated[
        int, typer.Option(help="Serve the REST API on 127.0.0.1:PORT (0: no API).")
    ] = 8000,
    db: DbOption = None,
) -> None:
    """Run the broker (embedded unless PREPAIDGRID_MQTT_URL names one), the head-end, the
    REST API, the nightly billing run and its alerts, SMS and e-mail delivery, and the
    hourly escalation of overdue complaints.

    Meters connect to the broker printed at start-up. The embedded broker speaks MQTT 3.1.1
    without shared subscriptions, so it serves one head-end worker; a real broker gets an
    MQTT 5 worker in the shared group "headend", and more workers can join it
    (`prepaidgrid headend`)."""
    configure_logging()
    app = app_for(db)
    if api_port and not port_is_free(api_port):
        typer.echo(f"error: 127.0.0.1:{api_port} is taken; pick another --api-port", err=True)
        raise typer.Exit(2)
    settings = settings_for(db)
    gateway = gateway_from_env(app, settings)
    leader = LeaderLock(app.engine)  # one scheduler among the serve processes of a database
    nightly = NightlyBilling(app, leader=leader).start() if billing else None
    polling = OrderPolling(app, gateway, leader=leader).start() if gateway is not None else None
    escalation = ComplaintEscalation(app, leader=leader).start()
    notify = None  # SMS and e-mail (docs/notifications.md)
    if app.notifiers is not None:
        notify = NotificationDispatch(
            app, app.notifiers, settings.notify_poll_s, parallel=settings.notify_parallel
        ).start()
    server = None
    if api_port:
        server = BackgroundServer(create_api(app, settings, gateway), port=api_port).start()
        typer.echo(f"serving: the API on {server.url} (OpenAPI at /openapi.json)", err=True)
    try:
        _serve(app, mqtt_url, broker_port, seconds)
    finally:
        for part in (server, notify, escalation, polling, nightly):
            if part is not None:
                part.stop()
        leader.release()


def _serve(app: App, mqtt_url: str | None, broker_port: int, seconds: float | None) -> None:
    today = app.clock.now().astimezone(IST).date()
    if created := ensure_interval_partitions(app.engine, months_ahead(today, 2)):
        typer.echo(f"created interval partitions: {', '.join(created)}", err=True)
    if mqtt_url is not None:
        config = WorkerConfig(mqtt_url, "prepaidgrid-headend-1", "headend")
        typer.echo(f"serving: head-end on {mqtt_url} (MQTT 5, group headend)", err=True)
        stats = HeadEndWorker(config, app.uow, app.clock, app.policies).run_for(seconds)
        typer.echo(json.dumps(stats.__dict__, sort_keys=True))
        return
    if not port_is_free(broker_port):
        typer.echo(
            f"error: 127.0.0.1:{broker_port} is taken, so the embedded MQTT broker cannot "
            f"start there. Is another broker running? Use it with --mqtt-url "
            f"mqtt://127.0.0.1:{broker_port}, or pick another --broker-port.",
            err=True,
        )
        raise typer.Exit(2)
    broker = EmbeddedBroker(port=broker_port).start()
    try:
        config = WorkerConfig(broker.url, "prepaidgrid-headend-1", None, mqtt_version=3)
        typer.echo(f"serving: embedded MQTT broker on {broker.url}; head-end attached", err=True)
        stats = HeadEndWorker(config, app.uow, app.clock, app.policies).run_for(seconds)
    finally:
        broker.stop()
    typer.echo(json.dumps(stats.__dict__, sort_keys=True))
