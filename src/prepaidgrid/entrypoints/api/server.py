"""Serving the API: a uvicorn factory configured from the environment, for
`prepaidgrid api --workers N` (one process per worker) and `prepaidgrid serve` (in-process).

    PREPAIDGRID_DATABASE_URL, PREPAIDGRID_GATEWAY_WEBHOOK_SECRET, PREPAIDGRID_BBPS_API_KEY,
    PREPAIDGRID_OFFICER_API_KEY, PREPAIDGRID_SESSION_SECRET (config.py);
    PREPAIDGRID_GATEWAY=simulated: the simulated UPI gateway, calling back this server at
    PREPAIDGRID_PUBLIC_URL (the demo; a production gateway adapter replaces it).
"""

from __future__ import annotations

import os
import threading

import uvicorn
from fastapi import FastAPI

from prepaidgrid.adapters.payments.simulated import SimulatedGateway, http_delivery
from prepaidgrid.bootstrap import App, bootstrap
from prepaidgrid.config import Settings
from prepaidgrid.entrypoints.api.app import create_api
from prepaidgrid.services.ports import PaymentGateway

WEBHOOK_PATH = "/api/v1/channels/gateway/webhook"


def gateway_from_env(app: App, settings: Settings) -> PaymentGateway | None:
    if os.environ.get("PREPAIDGRID_GATEWAY") != "simulated" or not settings.gateway_webhook_secret:
        return None
    public_url = os.environ.get("PREPAIDGRID_PUBLIC_URL", "http://127.0.0.1:8000")
    return SimulatedGateway(
        settings.gateway_webhook_secret.encode(),
        app.clock,
        http_delivery(public_url.rstrip("/") + WEBHOOK_PATH),
        pay_page=public_url.rstrip("/") + "/simulated-gateway/pay",
    )


def build() -> FastAPI:
    """The uvicorn factory (`prepaidgrid.entrypoints.api.server:build`)."""
    settings = Settings()
    app = bootstrap(settings)
    return create_api(app, settings, gateway_from_env(app, settings))


class BackgroundServer:
    """uvicorn in a thread of this process (serve, tests): start() returns once listening."""

    def __init__(self, api: FastAPI, host: str = "127.0.0.1", port: int = 8000) -> None:
        config = uvicorn.Config(api, host=host, port=port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="api", daemon=True)
        self.url = f"http://{host}:{port}"

    def start(self, timeout_s: float = 10.0) -> BackgroundServer:
        self._thread.start()
        for _ in range(int(timeout_s / 0.05)):
            if self._server.started:
                return self
            threading.Event().wait(0.05)
        raise RuntimeError(f"the API did not start on {self.url}")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
