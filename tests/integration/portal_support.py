"""The portal over a real database, through HTTP: log in as a consumer or an officer."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from prepaidgrid.adapters.db.tables import outbox
from tests.integration.api_support import Platform

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def portal_client(platform: Platform) -> TestClient:
    """A browser-like client: https, so that the Secure cookies travel."""
    return TestClient(platform.client.app, base_url="https://testserver")


def csrf_of(page: Response) -> str:
    found = CSRF.search(page.text)
    assert found, f"no CSRF field on {page.url}"
    return found.group(1)


def latest_code(platform: Platform, mobile: str) -> str:
    with platform.engine.connect() as db:
        codes = [
            p["params"]["code"]
            for p in db.execute(select(outbox.c.payload).order_by(outbox.c.id)).scalars()
            if p.get("template") == "login_code" and p.get("mobile") == mobile
        ]
    assert codes, f"no login code was sent to {mobile}"
    return codes[-1]


def log_in_consumer(platform: Platform, client: TestClient, mobile: str) -> Response:
    token = csrf_of(client.get("/portal/login"))
    sent = client.post("/portal/login/code", data={"mobile": mobile, "csrf_token": token})
    assert sent.status_code == 200, sent.text
    return client.post(
        "/portal/login/verify",
        data={"mobile": mobile, "code": latest_code(platform, mobile), "csrf_token": token},
    )


def log_in_officer(client: TestClient, username: str, password: str) -> Response:
    token = csrf_of(client.get("/portal/officer/login"))
    return client.post(
        "/portal/officer/login",
        data={"username": username, "password": password, "csrf_token": token},
    )
