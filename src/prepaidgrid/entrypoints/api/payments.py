"""Officers: one payment's life in one place (until officer logins, issue 6: X-Officer-Key)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.security import APIKeyHeader

from prepaidgrid.adapters.db.payment_read_models import SqlPaymentHistory
from prepaidgrid.domain.ledger import PaymentChannel, PaymentRef
from prepaidgrid.entrypoints.api.deps import Api, api, require_key
from prepaidgrid.entrypoints.api.problems import documented
from prepaidgrid.services.payment_timeline import payment_timeline

Context = Annotated[Api, Depends(api)]
# A security scheme, so that the schema says which calls need the key; checked below (401).
officer_key = APIKeyHeader(
    name="X-Officer-Key",
    scheme_name="OfficerKey",
    description="The officers' shared key (until officer logins, issue 6).",
    auto_error=False,
)


def officer(context: Context, x_officer_key: Annotated[str | None, Depends(officer_key)]) -> Api:
    require_key(x_officer_key, context.settings.officer_api_key, "officer key (X-Officer-Key)")
    return context


Officer = Annotated[Api, Depends(officer)]
router = APIRouter(prefix="/api/v1/payments", tags=["officers: payments"])
# A channel's payment reference (an order id, a receipt number or a BBPS reference), checked
# here: PostgreSQL refuses a NUL in text, which would be a 500.
REFERENCE = r"^[A-Za-z0-9._:-]{1,100}$"


@router.get(
    "/{channel}/{reference}",
    responses=documented(
        {
            401: "missing or wrong X-Officer-Key",
            404: "no such payment",
            422: "unknown channel, or a malformed reference",
            503: "no officer key is configured on this server",
        }
    ),
)
def timeline(
    channel: PaymentChannel,
    reference: Annotated[str, Path(pattern=REFERENCE, examples=["BBPS-7781"])],
    caller: Officer,
) -> dict[str, Any]:
    """received → confirmed → credited → reconnect command → relay acknowledged, each with
    its instant; or the stage it waits at, and since when."""
    ref = PaymentRef(channel, reference)
    app = caller.app
    life = payment_timeline(SqlPaymentHistory(app.engine), ref, app.clock.now())
    return life.as_dict()
