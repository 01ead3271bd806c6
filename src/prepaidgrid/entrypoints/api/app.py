"""The API application: `create_api(app, settings, gateway)`; served by `prepaidgrid serve`."""

from __future__ import annotations

from fastapi import FastAPI

from prepaidgrid.bootstrap import App
from prepaidgrid.config import Settings
from prepaidgrid.entrypoints.api import (
    bbps,
    consumer,
    counter,
    gateway,
    officer,
    payments,
    problems,
)
from prepaidgrid.entrypoints.api.deps import Api
from prepaidgrid.entrypoints.api.metrics import install_metrics
from prepaidgrid.entrypoints.portal.app import install_portal
from prepaidgrid.services.ports import PaymentGateway


def create_api(app: App, settings: Settings, gateway_port: PaymentGateway | None = None) -> FastAPI:
    api = FastAPI(
        title="prepaidgrid",
        version="1",
        summary="Smart prepaid electricity metering: recharge channels, consumers, officers.",
        openapi_url="/openapi.json",
    )
    api.state.api = Api(app, settings, gateway_port)
    problems.install(api)
    api.include_router(gateway.router)
    api.include_router(bbps.router)
    api.include_router(counter.router)
    api.include_router(payments.router)
    api.include_router(consumer.router)
    api.include_router(officer.router)
    install_portal(api)
    install_metrics(api, app)

    @api.get("/api/v1/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return api
