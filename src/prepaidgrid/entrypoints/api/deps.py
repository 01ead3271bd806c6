"""What every endpoint needs: the wired application, the settings, the payment gateway."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Request

from prepaidgrid.bootstrap import App
from prepaidgrid.config import Settings
from prepaidgrid.entrypoints.api.problems import NotConfigured, Unauthorized
from prepaidgrid.services.ports import PaymentGateway


@dataclass(frozen=True)
class Api:
    app: App
    settings: Settings
    gateway: PaymentGateway | None


def api(request: Request) -> Api:
    context: Api = request.app.state.api
    return context


def require_key(given: str | None, expected: str | None, what: str) -> None:
    """Constant-time check of a shared key; a server without one refuses (503)."""
    if not expected:
        raise NotConfigured(f"{what} is not configured on this server")
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized(f"missing or wrong {what}")
