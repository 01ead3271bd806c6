"""The HTTP API over a real database, with the simulated gateway delivering callbacks."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from prepaidgrid.adapters.clock import SettableClock
from prepaidgrid.adapters.db.uow import SqlUnitOfWork
from prepaidgrid.adapters.payments.simulated import SimulatedGateway
from prepaidgrid.bootstrap import App
from prepaidgrid.config import Settings
from prepaidgrid.entrypoints.api.app import create_api
from tests.integration.accounts_support import POLICIES, TARIFFS

SECRET = "test-gateway-secret"
BBPS_KEY = "test-bbps-key"
OFFICER_KEY = "test-officer-key"


class Platform:
    def __init__(self, engine: Engine, clock: SettableClock) -> None:
        self.engine, self.clock = engine, clock
        self.app = App(
            engine,
            clock,
            TARIFFS,
            POLICIES,
            lambda: SqlUnitOfWork(engine),
            lambda: SqlUnitOfWork(engine, read_only=True),
        )
        settings = Settings(
            database_url="sqlite://",
            gateway_webhook_secret=SECRET,
            bbps_api_key=BBPS_KEY,
            officer_api_key=OFFICER_KEY,
            session_secret="test-session-secret",
        )
        self.gateway = SimulatedGateway(SECRET.encode(), clock, self.deliver)
        self.client = TestClient(create_api(self.app, settings, self.gateway))
        self.responses: list[tuple[int, dict[str, object]]] = []

    def deliver(self, body: bytes, headers: dict[str, str]) -> int:
        response = self.client.post(
            "/api/v1/channels/gateway/webhook", content=body, headers=headers
        )
        self.responses.append((response.status_code, response.json()))
        return response.status_code

    def order(self, account_id: str, amount_paise: int) -> str:
        response = self.client.post(
            "/api/v1/orders", json={"account_id": account_id, "amount_paise": amount_paise}
        )
        assert response.status_code == 201, response.text
        order_id: str = response.json()["order_id"]
        return order_id

    def count(self, sql: str) -> int:
        with self.engine.connect() as db:
            return int(db.execute(text(sql)).scalar_one())

    def credits(self) -> int:
        return self.count("SELECT count(*) FROM journals WHERE kind = 'recharge'")
