"""Officers: one payment's life in one place (until officer logins, issue 6: X-Officer-Key)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header

from prepaidgrid.adapters.db.payment_read_models import SqlPaymentHistory
from prepaidgrid.domain.errors import InvalidInput
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.entrypoints.api.deps import Api, api, require_key
from prepaidgrid.services.payment_timeline import payment_timeline

Context = Annotated[Api, Depends(api)]


def officer(context: Context, x_officer_key: Annotated[str | None, Header()] = None) -> Api:
    require_key(x_officer_key, context.settings.officer_api_key, "officer key (X-Officer-Key)")
    return context


Officer = Annotated[Api, Depends(officer)]
router = APIRouter(prefix="/api/v1/payments", tags=["officers: payments"])


@router.get(
    "/{channel}/{reference}",
    responses={
        401: {"description": "missing or wrong X-Officer-Key"},
        404: {"description": "no such payment"},
        422: {"description": "unknown channel"},
        503: {"description": "no officer key is configured on this server"},
    },
)
def timeline(channel: str, reference: str, caller: Officer) -> dict[str, Any]:
    """received → confirmed → credited → reconnect command → relay acknowledged, each with
    its instant; or the stage it waits at, and since when."""
    try:
        ref = PaymentRef(PaymentChannel(channel), reference)
    except ValueError:
        raise InvalidInput(
            f"unknown channel {channel!r}: one of {', '.join(c.value for c in PaymentChannel)}"
        ) from None
    app = caller.app
    life = payment_timeline(SqlPaymentHistory(app.engine), ref, app.clock.now())
    return life.as_dict()
